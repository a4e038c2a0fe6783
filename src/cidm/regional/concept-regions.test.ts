/**
 * The CPU side of concept-aware regions: each prompt's EWA column scales over the packed LoRAs, and the
 * per-cell coefficients that mix to_out's weights exactly as the regional kernel mixes its outputs.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../../../tests/numeric';
import { combineWeights } from '../../ops/regional-attention.reference';
import { combinationCoefficients, promptColumnScales, transpose } from './concept-regions';

describe('per-prompt EWA column scales', () => {
  it("repeat each concept's weight over its rank, times the LoRA scale; a prompt naming no concept gets 0", () => {
    // 2 layers, concepts of rank 2 and 1; prompt 0 (global) names none, prompts 1 and 2 do
    const w1 = [Float64Array.of(0.9, 0.1), Float64Array.of(0.8, 0.2)];
    const w2 = [Float64Array.of(0.25, 0.75), Float64Array.of(0.5, 0.5)];
    const s = promptColumnScales([null, w1, w2], [2, 1], 2, 0.8);
    expect(s).toHaveLength(2);
    const close = (a: Float32Array, b: number[]) => b.forEach((x, i) => expect(a[i]).toBeCloseTo(x, 6));
    close(s[0]!, [0, 0, 0, 0.72, 0.72, 0.08, 0.2, 0.2, 0.6]);
    close(s[1]!, [0, 0, 0, 0.64, 0.64, 0.16, 0.4, 0.4, 0.4]);
    expect(() => promptColumnScales([[Float64Array.of(1)]], [2, 1], 1, 1)).toThrow(/layer 0/);
  });

  it('transposes row-major matrices', () => {
    expect(Array.from(transpose(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe("to_out's per-cell coefficients", () => {
  it("equal the regional kernel's combination weights for soft, overlapping masks and per-pass activity", () => {
    const U = 3;
    const tq = 40;
    const r = rng(5);
    const masks = Float32Array.from({ length: U * tq }, (_, i) => (i % 7 === 0 ? 0 : i % 5 === 0 ? 1.3 : r()));
    const active = [[1, 1, 1], [0, 1, 0], [0, 0, 0]];
    const c = combinationCoefficients(masks, active, U, tq);
    expect(c.length).toBe(active.length * tq * (U + 1));
    active.forEach((act, b) => {
      for (let t = 0; t < tq; t++) {
        const want = combineWeights(Array.from({ length: U }, (_, u) => Math.min(1, Math.max(0, masks[u * tq + t]!)) * act[u]!));
        const at = (b * tq + t) * (U + 1);
        expect(c[at]).toBeCloseTo(want.global, 6);
        want.regions.forEach((x, u) => expect(c[at + 1 + u]).toBeCloseTo(x, 6));
        // a convex mix: the cell's to_out weights are a weighted mean of the prompts'
        expect(Array.from(c.subarray(at, at + U + 1)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      }
    });
    // a pass without regions is the global prompt everywhere
    for (let t = 0; t < tq; t++) expect(c[(2 * tq + t) * (U + 1)]).toBe(1);
  });

  it('refuses masks of the wrong size', () => {
    expect(() => combinationCoefficients(new Float32Array(5), [[1]], 1, 4)).toThrow(/mask values/);
  });
});
