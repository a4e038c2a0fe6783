import { describe, expect, it } from 'vitest';
import type { Concept } from '../cidm/concepts/concept';
import { checkForgettingSpec, FORGETTING_DEFAULT_DRAWS, probeCaption } from './forgetting-job';
import type { TrainPhoto } from './protocol';

const concept = { id: 'c1', name: 'Rex', placeholders: ['<dog1>', '<dog2>'], classWord: 'dog' } as Concept;
const photo = (w: number, h = w): TrainPhoto => ({ rgba: { width: w, height: h, rgba: new Uint8ClampedArray(w * h * 4) } });

describe('forgetting job spec', () => {
  it('captions a probe with the first template of its choice and the concept phrase', () => {
    expect(probeCaption(concept)).toBe('a photo of a <dog1> <dog2> dog');
    expect(probeCaption(concept, 'style')).toBe('a <dog1> <dog2> dog');
    expect(probeCaption(concept, 'my {} on a sofa')).toBe('my <dog1> <dog2> dog on a sofa');
  });

  it('defaults the draws and refuses bad requests by name before any GPU work', () => {
    expect(checkForgettingSpec({ seed: 1, probes: [{ conceptId: 'c1', photos: [photo(64)] }] }, [concept]).draws).toBe(FORGETTING_DEFAULT_DRAWS);
    const bad = (probes: Parameters<typeof checkForgettingSpec>[0]['probes'], extra = {}) => () => checkForgettingSpec({ seed: 1, probes, ...extra }, [concept]);
    expect(bad([{ conceptId: 'zz', photos: [photo(64)] }])).toThrow(/"zz", which is not in the engine's library/);
    expect(bad([{ conceptId: 'c1', photos: [] }])).toThrow(/"Rex" has no photos/);
    expect(bad([{ conceptId: 'c1', photos: [photo(64), photo(32)] }])).toThrow(/photo 2 of "Rex" is 32×32/);
    expect(bad([{ conceptId: 'c1', photos: [photo(64, 32)] }])).toThrow(/square/);
    expect(bad([{ conceptId: 'c1', photos: [{ ...photo(64), mask: new Float32Array(10) }] }])).toThrow(/mask of photo 1/);
    expect(bad([{ conceptId: 'c1', photos: [photo(64)], captionTemplate: 'no slot' }])).toThrow(/no "\{\}"/);
    expect(bad([{ conceptId: 'c1', photos: [photo(64)] }, { conceptId: 'c1', photos: [photo(64)] }])).toThrow(/two forgetting probes/);
    expect(bad([{ conceptId: 'c1', photos: [photo(64)] }], { draws: 0 })).toThrow(/draws per photo/);
    expect(bad([{ conceptId: 'c1', photos: [photo(64)] }], { seed: -1 })).toThrow(/seed/);
  });
});
