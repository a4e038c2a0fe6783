// The VAE encoder's Downsample2D (diffusers, padding=0): F.pad(x, (0, 1, 0, 1)) then Conv2d(3, stride 2,
// padding 0), done as conv2d's `padEnd: 1`. Checked against a plain-TS reference that really pads the
// input (bottom row and right column of zeros) and runs the unpadded reference conv, on odd and even
// sizes; the even/odd split matters because the extra row is read only on even sides.
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import type { DType } from '../../gpu/tensor';
import { conv2d } from '../../ops/conv2d';
import { conv2dReference } from '../../ops/conv2d.reference';
import { GpuVaeBackend } from './backend';

/** F.pad(x, (0, p, 0, p)): p zero columns on the right and p zero rows at the bottom. */
function padEndReference(x: Float32Array, [n, c, h, w]: number[], p: number): { data: Float32Array; shape: number[] } {
  const H = h! + p;
  const W = w! + p;
  const out = new Float32Array(n! * c! * H * W);
  for (let i = 0; i < n! * c!; i++) for (let y = 0; y < h!; y++) for (let xx = 0; xx < w!; xx++) out[(i * H + y) * W + xx] = x[(i * h! + y) * w! + xx]!;
  return { data: out, shape: [n!, c!, H, W] };
}

const SHAPES: [number, number, number, number][] = [[1, 5, 13, 19], [2, 3, 8, 7], [1, 17, 2, 3], [1, 9, 16, 10]];

async function run(dtype: DType) {
  const ctx = await testContext();
  const results = [];
  for (const [i, shape] of SHAPES.entries()) {
    const [, cin, h, w] = shape;
    const cout = 7;
    const round = (a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);
    const x = round(randomArray(shape.reduce((a, b) => a * b, 1), 10 + i));
    const wt = round(randomArray(cout * cin * 9, 20 + i, -1 / Math.sqrt(cin * 9), 1 / Math.sqrt(cin * 9)));
    const bias = round(randomArray(cout, 30 + i, -0.5, 0.5));
    const padded = padEndReference(x, shape, 1);
    const expected = conv2dReference(padded.data, padded.shape, wt, [cout, cin, 3, 3], { stride: 2, padding: 0, bias });
    expect(expected.shape).toEqual([shape[0], cout, Math.floor(h / 2), Math.floor(w / 2)]);
    const got = await checked(ctx, `downsample ${shape}`, async () => {
      const tx = ctx.upload(x, shape, dtype, 'x');
      const tw = ctx.upload(wt, [cout, cin, 3, 3], dtype, 'w');
      const tb = ctx.upload(bias, [cout], dtype, 'b');
      // through the VAE backend op the encoder calls (weights map unused by this op)
      const be = new GpuVaeBackend(ctx, new Map(), dtype);
      const y = await be.downsampleConv(tx, tw, tb);
      expect(y.shape).toEqual(expected.shape);
      const data = await ctx.read(y);
      ctx.release(tx, tw, tb, y);
      return data;
    });
    const r = compare(got, expected.data);
    console.log(`downsample ${dtype} [${shape}] → [${expected.shape}]: ${describeComparison(r)}`);
    results.push(r);
  }
  return results;
}

describe(`VAE downsample (pad (0,1,0,1) + conv 3×3 stride 2) on ${TEST_ADAPTER}`, () => {
  it('matches the padded reference in f32 on odd and even sizes', async () => {
    for (const r of await run('f32')) expect(r.maxRel).toBeLessThanOrEqual(1e-5);
  });

  it(TEST_ADAPTER === 'lavapipe' ? 'matches in f16 storage (f32 accumulation)' : 'refuses f16 without shader-f16', async () => {
    const ctx = await testContext();
    if (ctx.hasF16) {
      // inputs are f16-exact, so the only rounding is the f16 store of the output: 2^-11 relative
      for (const r of await run('f16')) expect(r.maxRel).toBeLessThanOrEqual(1e-3);
    } else {
      expect(() => ctx.upload([1], [1, 1, 1, 1], 'f16', 'x')).toThrow(FeatureMissingError);
      const x = ctx.upload(new Float32Array(8), [1, 1, 2, 4], 'f32', 'x');
      const w = { ...ctx.upload(new Float32Array(9), [1, 1, 3, 3], 'f32', 'w') };
      await expect(conv2d(ctx, { ...x, dtype: 'f16' }, { ...w, dtype: 'f16' }, { stride: 2, padding: 0, padEnd: 1 })).rejects.toThrow(FeatureMissingError);
      ctx.release(x, w);
    }
  });

  it('rejects a negative or fractional padEnd', async () => {
    const ctx = await testContext();
    const x = ctx.upload(new Float32Array(16), [1, 1, 4, 4], 'f32', 'x');
    const w = ctx.upload(new Float32Array(9), [1, 1, 3, 3], 'f32', 'w');
    await expect(conv2d(ctx, x, w, { stride: 2, padding: 0, padEnd: -1 })).rejects.toThrow(RangeError);
    await expect(conv2d(ctx, x, w, { stride: 2, padding: 0, padEnd: 0.5 })).rejects.toThrow(RangeError);
    ctx.release(x, w);
  });
});
