import { describe, expect, it } from 'vitest';
import { codeTaskScores, ewaLayerWeights, ewaWeightsReference, layerSimilarity, paperTaskScores } from './weights';

// Prompt rows c0 = (1, 0), c1 = (0, 2). Task 0: words (3, 0) and (1, 1); task 1: word (1, −1).
const PROMPT = [1, 0, 0, 2];
const WORDS = [3, 0, 1, 1, 1, -1];
const SPANS = [
  { start: 0, count: 2 },
  { start: 2, count: 1 },
];
const R = Math.SQRT1_2;

describe('EWA weights (plain TS, spec §3)', () => {
  it('dot products and squared norms of the rows', () => {
    const s = layerSimilarity(WORDS, 3, PROMPT, 2, 2);
    expect(Array.from(s.dots)).toEqual([3, 0, 1, 2, 1, -2]);
    expect(Array.from(s.wordSq)).toEqual([9, 2, 2]);
    expect(Array.from(s.tokenSq)).toEqual([1, 4]);
  });

  it('code form: cosine, max over prompt rows, mean per task after the max, s⁴ / Σ s⁴', () => {
    const s = layerSimilarity(WORDS, 3, PROMPT, 2, 2);
    // m = [1, cos45° = √½, max(√½, −√½) = √½]
    const scores = codeTaskScores(s, SPANS);
    expect(scores[0]).toBeCloseTo((1 + R) / 2, 12);
    expect(scores[1]).toBeCloseTo(R, 12);
    const w = ewaLayerWeights(s, SPANS, 'code');
    const a = ((1 + R) / 2) ** 4;
    const b = R ** 4;
    expect(w[0]).toBeCloseTo(a / (a + b), 12);
    expect(w[1]).toBeCloseTo(b / (a + b), 12);
    expect(w[0]! + w[1]!).toBeCloseTo(1, 14);
  });

  it('code form averages similarities after the max, not embeddings before it', () => {
    // Task 0's two words each match one prompt row exactly: mean of maxima = 1, while the task-mean
    // embedding (1, 1)/2 would only reach cos 45°.
    const s = layerSimilarity([1, 0, 0, 1, 1, 1], 3, [1, 0, 0, 1], 2, 2);
    expect(codeTaskScores(s, SPANS)[0]).toBeCloseTo(1, 14);
  });

  it('code form is scale-free per row (cosine); a zero row scores 0 instead of NaN', () => {
    const a = ewaLayerWeights(layerSimilarity(WORDS, 3, PROMPT, 2, 2), SPANS);
    const scaled = ewaLayerWeights(layerSimilarity(WORDS.map((x) => 7 * x), 3, PROMPT.map((x, i) => (i < 2 ? 0.1 : 5) * x), 2, 2), SPANS);
    for (let i = 0; i < 2; i++) expect(scaled[i]).toBeCloseTo(a[i]!, 12);
    const zero = codeTaskScores(layerSimilarity([0, 0, 1, 1, 1, -1], 3, PROMPT, 2, 2), SPANS);
    expect(Number.isFinite(zero[0])).toBe(true);
  });

  it('paper form: raw dot with the task-mean embedding, max over prompt rows, M² / ‖M²‖₂', () => {
    const s = layerSimilarity(WORDS, 3, PROMPT, 2, 2);
    // task 0 mean embedding (2, 0.5): dots with c0, c1 = 2, 1 → M0 = 2; task 1 (1, −1): 1, −2 → M1 = 1
    expect(Array.from(paperTaskScores(s, SPANS))).toEqual([2, 1]);
    const w = ewaLayerWeights(s, SPANS, 'paper');
    expect(w[0]).toBeCloseTo(4 / Math.sqrt(17), 12);
    expect(w[1]).toBeCloseTo(1 / Math.sqrt(17), 12);
    // does not sum to 1: between 1 and √g
    const sum = w[0]! + w[1]!;
    expect(sum).toBeGreaterThan(1);
    expect(sum).toBeLessThan(Math.SQRT2);
  });

  it('per layer from the states, with a prompt shared by every layer or one per layer', () => {
    const C = 5;
    const J = 4;
    const K = 6;
    const L = 3;
    const spans = [
      { start: 0, count: 1 },
      { start: 1, count: 3 },
    ];
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const words = Float64Array.from({ length: L * J * C }, rnd);
    const prompt = Float64Array.from({ length: L * K * C }, rnd);
    for (const form of ['code', 'paper'] as const) {
      const per = ewaWeightsReference(words, prompt, { layers: L, words: J, tokens: K, width: C }, spans, form);
      const shared = ewaWeightsReference(words, prompt, { layers: L, words: J, tokens: K, width: C, promptShared: true }, spans, form);
      expect(per).toHaveLength(L);
      for (let l = 0; l < L; l++) {
        const direct = ewaLayerWeights(layerSimilarity(words.subarray(l * J * C), J, prompt.subarray(l * K * C), K, C), spans, form);
        expect(Array.from(per[l]!)).toEqual(Array.from(direct));
        const first = ewaLayerWeights(layerSimilarity(words.subarray(l * J * C), J, prompt, K, C), spans, form);
        expect(Array.from(shared[l]!)).toEqual(Array.from(first));
        if (form === 'code') expect(per[l]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        for (const x of per[l]!) expect(x).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('refuses task spans outside the word rows', () => {
    const s = layerSimilarity(WORDS, 3, PROMPT, 2, 2);
    expect(() => ewaLayerWeights(s, [{ start: 2, count: 2 }])).toThrow(RangeError);
    expect(() => ewaLayerWeights(s, [])).toThrow(RangeError);
  });
});
