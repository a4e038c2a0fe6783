import { describe, expect, it } from 'vitest';
import { poolIndices } from './forward';

describe('pooled-token choice', () => {
  it('argmax of the ids per sequence (first maximum), as transformers 4.26', () => {
    // tokenizer pads with EOS: the first 49407 is the largest id and comes first
    expect(poolIndices([49406, 320, 49407, 49407, 49406, 5, 6, 49407], 4)).toEqual([2, 3]);
    // tokenizer_2 pads with '!' = 0
    expect(poolIndices([49406, 320, 49407, 0], 4)).toEqual([2]);
  });

  it("'eos' takes the first EOS even when a larger (concept) id comes before it", () => {
    const ids = [49406, 49409, 49407, 0];
    expect(poolIndices(ids, 4, 'argmax')).toEqual([1]);
    expect(poolIndices(ids, 4, 'eos')).toEqual([2]);
    expect(poolIndices([1, 9, 3, 0], 4, 'eos')).toEqual([1]); // no EOS: falls back to argmax
  });
});
