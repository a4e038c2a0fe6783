import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { DType } from '../gpu/tensor';
import { softmax, type SoftmaxOptions } from './softmax';
import { softmaxReference } from './reductions.reference';

const F32_TOL = 1e-5;
const F16_TOL = 2e-3;

/** Rows of logits in [-8, 8]; row 1 (when present) is shifted by +1000 to catch a missing max. */
function logits(rows: number, cols: number, seed: number): Float32Array {
  const x = randomArray(rows * cols, seed, -8, 8);
  if (rows > 1) for (let j = 0; j < cols; j++) x[cols + j]! += 1000;
  return x;
}

async function softmaxCase(ctx: GpuContext, rows: number, cols: number, dtype: DType, opts: SoftmaxOptions = {}) {
  let x: Float32Array = logits(rows, cols, rows * 7919 + cols);
  if (dtype === 'f16') x = roundToF16(randomArray(rows * cols, cols, -8, 8)); // f16 cannot hold 1000 + x finely
  const t = ctx.upload(x, [rows, cols], dtype, 'logits');
  const what = `softmax ${dtype} [${rows}, ${cols}]${opts.scale ? ` scale ${opts.scale}` : ''}`;
  const out = await checked(ctx, what, () => softmax(ctx, t, opts));
  const got = await ctx.read(out);
  ctx.release(t, out);
  const c = compare(got, softmaxReference(x, cols, opts.scale ?? 1));
  if (process.env.CIDM_VERBOSE) console.log(`${what}: ${describeComparison(c)}`);
  expect(c.maxRel, `${what}: ${describeComparison(c)}`).toBeLessThanOrEqual(dtype === 'f16' ? F16_TOL : F32_TOL);
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += got[r * cols + j]!;
    worst = Math.max(worst, Math.abs(s - 1));
  }
  expect(worst, `${what}: worst row sum - 1`).toBeLessThanOrEqual(dtype === 'f16' ? 2e-2 : 1e-5);
}

describe(`softmax on ${TEST_ADAPTER}`, () => {
  it('normalises f32 rows of length 1, 77, 1000 and 4097, stable under a +1000 offset', async () => {
    const ctx = await testContext();
    for (const cols of [1, 77, 1000, 4097]) await softmaxCase(ctx, 3, cols, 'f32');
  });

  it('applies a scale before the softmax, and runs in place', async () => {
    const ctx = await testContext();
    await softmaxCase(ctx, 5, 77, 'f32', { scale: 1 / Math.sqrt(64) });
    const x = randomArray(2 * 1000, 5, -4, 4);
    const t = ctx.upload(x, [2, 1000], 'f32', 'scores');
    const r = await checked(ctx, 'softmax in place', () => softmax(ctx, t, { out: t, scale: 2 }));
    expect(r).toBe(t);
    const c = compare(await ctx.read(t), softmaxReference(x, 1000, 2));
    expect(c.maxRel, describeComparison(c)).toBeLessThanOrEqual(F32_TOL);
    ctx.release(t);
  });

  it('packs short rows many to a workgroup, and spills a grid of more than 65535 workgroups into y', async () => {
    const ctx = await testContext();
    await softmaxCase(ctx, 65537, 3, 'f32'); // 1 invocation per row: 257 workgroups
    await softmaxCase(ctx, 1001, 17, 'f32'); // 8 per row
    // 65536 workgroups: every row must be written (a missed one keeps stale pool data, not 1);
    // reduce.gpu.test.ts checks the same spilled index with position-dependent results.
    await softmaxCase(ctx, 65535 * 256 + 3, 1, 'f32');
  });

  it('runs f16 storage with f32 math where shader-f16 exists, and names the missing feature where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER !== 'lavapipe') {
      expect(ctx.hasF16).toBe(false);
      const t = ctx.upload(randomArray(77, 1), [1, 77], 'f32', 'x');
      await expect(softmax(ctx, t, { dtype: 'f16' })).rejects.toThrow(FeatureMissingError);
      ctx.release(t);
      return;
    }
    expect(ctx.hasF16).toBe(true);
    for (const cols of [1, 77, 1000, 4097]) await softmaxCase(ctx, 3, cols, 'f16');
    // f16 scores in, f32 probabilities out.
    const x = roundToF16(randomArray(4 * 77, 2, -8, 8));
    const t = ctx.upload(x, [4, 77], 'f16', 'x16');
    const out = await checked(ctx, 'softmax f16->f32', () => softmax(ctx, t, { dtype: 'f32' }));
    const c = compare(await ctx.read(out), softmaxReference(x, 77));
    expect(c.maxRel, describeComparison(c)).toBeLessThanOrEqual(F32_TOL);
    ctx.release(t, out);
  });
});
