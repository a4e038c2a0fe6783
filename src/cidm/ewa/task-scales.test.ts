import { describe, expect, it } from 'vitest';
import { ConceptStrengthError, scaleTaskWeights, taskScalesFor } from './task-scales';

describe('concept style strength (EWA weight scaled per concept)', () => {
  const concepts = [{ name: 'rex' }, { name: 'ink style' }, { name: 'mug' }];

  it('one factor per concept in task order, 1 for the concepts not named', () => {
    expect(taskScalesFor(concepts, { 'ink style': 0.4 })).toEqual([1, 0.4, 1]);
    expect(taskScalesFor(concepts, {})).toEqual([1, 1, 1]);
  });

  it('refuses a strength that is negative, too large or not a number, by name', () => {
    for (const bad of [-0.1, 5, Number.NaN]) expect(() => taskScalesFor(concepts, { rex: bad })).toThrow(ConceptStrengthError);
    expect(() => taskScalesFor(concepts, { rex: -1 })).toThrow('The style strength of “rex” must be from 0 to 4, got -1.');
  });

  it('multiplies concept g’s weight in every layer by its factor and leaves the input untouched', () => {
    const w = [Float64Array.of(0.5, 0.3, 0.2), Float64Array.of(0.1, 0.8, 0.1)];
    const scaled = scaleTaskWeights(w, [1, 0.5, 0]);
    expect(scaled.map((x) => [...x])).toEqual([[0.5, 0.15, 0], [0.1, 0.4, 0]]);
    expect([...w[0]!]).toEqual([0.5, 0.3, 0.2]);
    expect(scaleTaskWeights(w, [1, 1, 1]).map((x) => [...x])).toEqual(w.map((x) => [...x]));
    expect(() => scaleTaskWeights(w, [1, 0.5])).toThrow(RangeError);
  });
});
