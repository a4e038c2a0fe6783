import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import type { DType } from '../../gpu/tensor';
import { toF16Array, fromF16Array } from '../../gpu/f16';
import { ewaSimilarity, layerSimilarities } from './similarity';
import { ewaLayerWeights, ewaWeightsReference, layerSimilarity } from './weights';

const DTYPES: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
const round = (x: Float32Array, dtype: DType) => (dtype === 'f16' ? fromF16Array(toF16Array(x)) : x);

describe(`EWA similarity kernel on ${TEST_ADAPTER}`, () => {
  it('the adapter gives the dtypes this tier must test', async () => {
    const ctx = await testContext();
    expect(ctx.hasF16).toBe(TEST_ADAPTER === 'lavapipe');
  });

  // Odd sizes: 5 layers, 2 concept sequences of 13 positions laid out as the library does ([S·L, 13, C],
  // sequence-major), 7 words over both sequences, 11 prompt rows, width 37.
  const [L, S, T, K, C] = [5, 2, 13, 11, 37];
  const places = [[0, 1], [0, 2], [0, 3], [1, 1], [1, 2], [1, 3], [1, 4]] as const;
  const wordRows = places.map(([s, p]) => s * L * T + p);
  const spans = [
    { start: 0, count: 3 },
    { start: 3, count: 2 },
    { start: 5, count: 2 },
  ];
  for (const dtype of DTYPES) {
    for (const shared of [false, true]) {
      it(`dots and norms match the f64 reference (${dtype}, ${shared ? 'one prompt for all layers' : 'a prompt per layer'})`, async () => {
        const ctx = await testContext();
        const conceptData = round(randomArray(S * L * T * C, 1, -3, 3), dtype);
        const promptData = round(randomArray((shared ? 1 : L) * K * C, 2, -3, 3), dtype);
        const concept = ctx.upload(conceptData, [S * L, T, C], dtype, 'concept');
        const prompt = ctx.upload(promptData, [shared ? 1 : L, K, C], dtype, 'prompt');
        const out = await checked(ctx, 'ewa similarity', () => ewaSimilarity(ctx, { states: concept, layers: L, layerStride: T, rows: wordRows }, prompt));
        const table = await ctx.read(out);
        const gpu = layerSimilarities(table, L, wordRows.length, K);
        // the words' rows gathered on the CPU, [L, J, C]: sequence s, layer l, position p is row (s·L + l)·T + p
        const words = new Float32Array(L * wordRows.length * C);
        for (let l = 0; l < L; l++) places.forEach(([s, p], j) => words.set(conceptData.subarray(((s * L + l) * T + p) * C, ((s * L + l) * T + p + 1) * C), (l * wordRows.length + j) * C));
        let worst = 0;
        for (let l = 0; l < L; l++) {
          const ref = layerSimilarity(words.subarray(l * wordRows.length * C), wordRows.length, promptData.subarray((shared ? 0 : l) * K * C), K, C);
          for (const key of ['dots', 'wordSq', 'tokenSq'] as const) {
            const c = compare(gpu[l]![key], ref[key]);
            worst = Math.max(worst, c.maxRel);
            expect(c.maxRel, `layer ${l} ${key}: ${describeComparison(c)}`).toBeLessThanOrEqual(1e-5);
          }
          expect(table[(l * (wordRows.length + 1) + wordRows.length) * (K + 1) + K]).toBe(0);
        }
        // and the weights made of them, both forms
        for (const form of ['code', 'paper'] as const) {
          const ref = ewaWeightsReference(words, promptData, { layers: L, words: wordRows.length, tokens: K, width: C, promptShared: shared }, spans, form);
          for (let l = 0; l < L; l++) {
            const c = compare(ewaLayerWeights(gpu[l]!, spans, form), ref[l]!);
            expect(c.maxAbs, `${form} layer ${l}`).toBeLessThanOrEqual(1e-5);
          }
        }
        console.log(`[ewa-similarity ${dtype}${shared ? ' shared' : ''}] max rel error vs f64 reference ${worst.toExponential(2)}`);
        ctx.release(concept, prompt, out);
      });
    }
  }

  it('refuses mismatched states and word rows outside the concept rows', async () => {
    const ctx = await testContext();
    const concept = ctx.upload(randomArray(2 * 5 * 3, 1), [2, 5, 3], 'f32', 'concept');
    const prompt = ctx.upload(randomArray(3 * 4 * 3, 2), [3, 4, 3], 'f32', 'prompt');
    await expect(ewaSimilarity(ctx, { states: concept, layers: 2, layerStride: 5, rows: [1] }, prompt)).rejects.toThrow(RangeError);
    const ok = ctx.upload(randomArray(4 * 3, 2), [1, 4, 3], 'f32', 'prompt');
    await expect(ewaSimilarity(ctx, { states: concept, layers: 2, layerStride: 5, rows: [5] }, ok)).rejects.toThrow(/word rows/);
    const fits = await ewaSimilarity(ctx, { states: concept, layers: 2, layerStride: 5, rows: [4] }, ok);
    expect(fits.shape).toEqual([2, 2, 5]);
    ctx.release(fits);
    ctx.release(concept, prompt, ok);
  });
});
