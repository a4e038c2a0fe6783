import { describe, expect, it } from 'vitest';
import type { Concept } from '../cidm/concepts/concept';
import { ConceptModelMismatchError, modelConcepts, namedConcepts, placeholderWordsIn } from './concept-prompt';
import { previewPromptOf, previewsDue } from './train-preview';

function concept(id: string, placeholders: string[], modelId = 'sdxl', taskIndex = 1): Concept {
  return {
    id, name: `concept ${id}`, classWord: 'dog', placeholders, taskIndex, layers: 1, rank: 1, tokens: [], tokenWidths: [], lora: new Map(),
    hyper: { steps: 1, lrLora: 1, lrTokens: 1, rank: 1, seed: 1, resolution: 8, masked: false, gamma: 0, r1Form: 'code' }, modelId, createdAt: 0,
  };
}

describe('the concepts a prompt names', () => {
  const a = concept('a', ['<dog1>', '<dog2>']);
  const b = concept('b', ['<dog10>'], 'sdxl', 2);
  const other = concept('o', ['<mug1>'], 'other-model', 3);
  const shared = concept('s', ['<cat1>'], 'other-model', 4);
  const sharedHere = concept('t', ['<cat1>'], 'sdxl', 5);

  it('finds placeholder words as EWA tokenizes them: longest first, anywhere in the text, once each', () => {
    expect(placeholderWordsIn('a <dog10> and <dog1>, <dog1>!', ['<dog1>', '<dog10>'])).toEqual(['<dog10>', '<dog1>']);
    expect(placeholderWordsIn('a photo of a dog', ['<dog1>'])).toEqual([]);
    expect(placeholderWordsIn('anything', [])).toEqual([]);
    // regex characters in a word are literal
    expect(placeholderWordsIn('x (a+) y', ['(a+)', 'a'])).toEqual(['(a+)']);
  });

  it('returns the named concepts of the loaded model in library order', () => {
    const lib = [a, b, other];
    expect(namedConcepts(['<dog10> next to <dog2>'], lib, 'sdxl')).toEqual([a, b]);
    expect(namedConcepts(['a photo of a dog'], lib, 'sdxl')).toEqual([]);
    expect(namedConcepts(['<dog1>', 'and <dog10> in a region'], lib, 'sdxl')).toEqual([a, b]);
    expect(namedConcepts(['<dog1>'], [], 'sdxl')).toEqual([]);
  });

  it('refuses a word of a concept learned on another model, by name', () => {
    const lib = [a, other];
    expect(() => namedConcepts(['<dog1> with <mug1>'], lib, 'sdxl')).toThrow(ConceptModelMismatchError);
    const err = (() => {
      try {
        namedConcepts(['<mug1>'], lib, 'sdxl');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toMatchObject({ name: 'ConceptModelMismatchError', code: 'concept-model-mismatch', word: '<mug1>', conceptModelId: 'other-model', loadedModelId: 'sdxl' });
    expect((err as Error).message).toMatch(/"<mug1>" of the concept "concept o", which was learned on the model "other-model", but "sdxl" is loaded/);
    // a word both models' concepts use is this model's
    expect(namedConcepts(['<cat1>'], [shared, sharedHere], 'sdxl')).toEqual([sharedHere]);
    expect(modelConcepts([a, other, b], 'sdxl')).toEqual([a, b]);
  });
});

describe('training previews', () => {
  it('fall every N steps and on the last step', () => {
    const at = (steps: number, every: number) => Array.from({ length: steps }, (_, i) => i + 1).filter((k) => previewsDue(k - 1, k, every, steps) > 0);
    expect(at(7, 3)).toEqual([3, 6, 7]);
    expect(at(6, 3)).toEqual([3, 6]);
    expect(at(5, 1)).toEqual([1, 2, 3, 4, 5]);
    expect(at(5, 0)).toEqual([]);
    expect(at(2, 10)).toEqual([2]);
    // those still due from a step on (the ETA)
    expect(previewsDue(3, 7, 3)).toBe(2);
    expect(previewsDue(0, 7, 3)).toBe(3);
    expect(previewsDue(7, 7, 3)).toBe(0);
  });

  it('prompt: the job\'s, else "a photo of <p1> … <pP> class"', () => {
    expect(previewPromptOf({ placeholders: ['<a1>', '<a2>'], classWord: ' teddy bear ' })).toBe('a photo of <a1> <a2> teddy bear');
    expect(previewPromptOf({ placeholders: ['<a1>'], classWord: 'dog', previewPrompt: '<a1> on the beach' })).toBe('<a1> on the beach');
  });
});
