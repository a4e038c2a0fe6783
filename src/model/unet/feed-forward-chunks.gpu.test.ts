/**
 * The UNet feed-forward in row chunks (forward.ts feedForward: how SDXL's f32 GEGLU projection stays
 * under 128 MiB per binding without shader-f16), on the GPU backend with packed f16 weights: the chunked
 * result equals the plain-TS reference of net.2(geglu(net.0.proj(x))) + residual, on odd sizes.
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import { roundToF16 } from '../../gpu/f16';
import type { Tensor } from '../../gpu/tensor';
import { linearReference } from '../../ops/matmul.reference';
import { feedForward } from './forward';
import { GpuUNetBackend } from './gpu-backend';

/** diffusers GEGLU: proj → (h, gate) halves on the last axis → h · gelu(gate) (erf form). */
function gegluReference(h: ArrayLike<number>, rows: number, width: number): Float32Array {
  const half = width / 2;
  const out = new Float32Array(rows * half);
  const erf = (x: number) => {
    // Abramowitz–Stegun 7.1.26 is 1.5e-7 accurate: far below the f32 tolerance of this test
    const t = 1 / (1 + 0.3275911 * Math.abs(x));
    const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
    return x >= 0 ? y : -y;
  };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < half; c++) {
      const g = h[r * width + half + c]!;
      out[r * half + c] = h[r * width + c]! * 0.5 * g * (1 + erf(g / Math.SQRT2));
    }
  }
  return out;
}

describe(`chunked feed-forward on ${TEST_ADAPTER}`, () => {
  it('row chunks (packed f16 weights, f32 activations) give the reference result', async () => {
    const ctx = await testContext();
    const [B, T, C, inner] = [2, 75, 13, 22]; // 150 rows: chunks of 64, 64 and 22
    const p = 'ff';
    const shapes: [string, number[]][] = [[`${p}.net.0.proj.weight`, [2 * inner, C]], [`${p}.net.0.proj.bias`, [2 * inner]], [`${p}.net.2.weight`, [C, inner]], [`${p}.net.2.bias`, [C]]];
    const data = new Map(shapes.map(([n, s], i) => [n, s.length > 1 ? roundToF16(randomArray(s[0]! * s[1]!, 40 + i)) : randomArray(s[0]!, 40 + i)]));
    const weights = new Map<string, Tensor>(shapes.map(([n, s]) => [n, ctx.uploadWeight(data.get(n)!, s, s.length > 1 ? 'f16' : 'f32', n)]));
    const be = new GpuUNetBackend(ctx, weights, 'f32', 'ff test');
    const slices: number[] = [];
    const slice = be.sliceRows.bind(be);
    be.sliceRows = (t, start, rows) => (slices.push(rows), slice(t, start, rows));
    const x = randomArray(B * T * C, 50);
    const res = randomArray(B * T * C, 51);
    const tx = ctx.upload(x, [B, T, C], 'f32', 'x');
    const tr = ctx.upload(res, [B, T, C], 'f32', 'residual');
    // a projection of 150 × 44 f32 values is 26 KiB: a 10 KiB bound forces three row chunks
    const got = await checked(ctx, 'chunked ff', async () => {
      const y = await feedForward(be, p, tx, tr, 10 * 1024);
      expect(y.shape).toEqual([B, T, C]);
      const d = await ctx.read(y);
      ctx.release(y);
      return d;
    });
    expect(slices).toEqual([64, 64, 64, 64, 22, 22]); // x and residual rows of each of the three chunks
    ctx.release(tx, tr);
    for (const t of weights.values()) ctx.destroyTensor(t);
    const rows = B * T;
    const proj = linearReference(x, [rows, C], data.get(`${p}.net.0.proj.weight`)!, [2 * inner, C], data.get(`${p}.net.0.proj.bias`)!).data;
    const g = gegluReference(proj, rows, 2 * inner);
    const out = linearReference(g, [rows, inner], data.get(`${p}.net.2.weight`)!, [C, inner], data.get(`${p}.net.2.bias`)!).data;
    for (let i = 0; i < out.length; i++) out[i]! += res[i]!;
    const cmp = compare(got, out);
    expect(cmp.maxRel, describeComparison(cmp)).toBeLessThanOrEqual(1e-5);
  });
});
