import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray, type Comparison } from '../../../tests/numeric';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import type { DType, Tensor } from '../../gpu/tensor';
import type { GpuContext } from '../../gpu/context';
import { conv2dOutputSize } from '../conv2d';
import { conv2dInputGrad, conv2dWeightGrad, sumBiasGrad } from './conv2d-backward';
import { biasGradReference, conv2dInputGradReference, conv2dWeightGradReference } from './conv2d-backward.reference';

interface Case {
  name: string;
  /** x [N, Cin, H, W] of the forward. */
  x: [number, number, number, number];
  cout: number;
  k: 1 | 3;
  stride: 1 | 2;
  padding: 0 | 1;
  tuning?: { threads: 8 | 16; bk: number };
}

// Odd shapes: no size is a multiple of the 64-pixel × 64-channel tile or of the 32-deep K-slice.
const CASES: Case[] = [
  { name: '3×3 s1 6→8', x: [2, 6, 9, 11], cout: 8, k: 3, stride: 1, padding: 1 },
  { name: '3×3 s2 6→8 on 9×11', x: [2, 6, 9, 11], cout: 8, k: 3, stride: 2, padding: 1 },
  { name: '3×3 s1 13→7', x: [1, 13, 7, 5], cout: 7, k: 3, stride: 1, padding: 1 },
  { name: '3×3 s2 40→24 on 9×11', x: [2, 40, 9, 11], cout: 24, k: 3, stride: 2, padding: 1 },
  { name: '3×3 s2 on even 8×10', x: [1, 5, 8, 10], cout: 3, k: 3, stride: 2, padding: 1 },
  // two row tiles, two Cin column tiles, Cout over two K-slices (the second partial)
  { name: '3×3 s1 70→40, 2×2 tiles', x: [1, 70, 9, 11], cout: 40, k: 3, stride: 1, padding: 1 },
  { name: '1×1 s1 13→7 (matmul)', x: [2, 13, 7, 5], cout: 7, k: 1, stride: 1, padding: 0 },
  { name: '1×1 s1 13→7 (implicit GEMM)', x: [2, 13, 7, 5], cout: 7, k: 1, stride: 1, padding: 0, tuning: { threads: 8, bk: 8 } },
  // odd rows/columns are reached by no tap: their gradient is exactly zero
  { name: '1×1 s2 6→5 on 9×11', x: [1, 6, 9, 11], cout: 5, k: 1, stride: 2, padding: 0 },
  { name: '3×3 s1 20→131, 128-tile', x: [1, 131, 11, 13], cout: 20, k: 3, stride: 1, padding: 1, tuning: { threads: 16, bk: 16 } },
];

function caseData(c: Case, seed: number, dtype: DType) {
  const [n, cin, h, w] = c.x;
  const [ho, wo] = conv2dOutputSize(h, w, c.k, c.k, c.stride, c.padding);
  const round = (a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);
  const fanIn = cin * c.k * c.k;
  return {
    dyShape: [n, c.cout, ho, wo] as const,
    wShape: [c.cout, cin, c.k, c.k] as const,
    x: round(randomArray(n * cin * h * w, seed)),
    dy: round(randomArray(n * c.cout * ho * wo, seed + 1)),
    w: round(randomArray(c.cout * fanIn, seed + 2, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn))),
  };
}

interface Result {
  dx: Comparison;
  dw: Comparison;
  db: Comparison;
}

async function runCase(ctx: GpuContext, c: Case, dtype: DType, seed: number, withWeightGrad: boolean): Promise<Result> {
  const d = caseData(c, seed, dtype);
  const g = { xShape: c.x, wShape: d.wShape, stride: c.stride, padding: c.padding };
  const keep: Tensor[] = [];
  const up = (a: Float32Array, shape: readonly number[], label: string) => {
    const t = ctx.upload(a, shape, dtype, label);
    keep.push(t);
    return t;
  };
  const dY = up(d.dy, d.dyShape, 'dY');
  const w = up(d.w, d.wShape, 'w');
  const x = up(d.x, c.x, 'x');
  const got = await checked(ctx, `conv2d backward ${c.name}`, async () => {
    const dx = await conv2dInputGrad(ctx, dY, w, { stride: c.stride, padding: c.padding, inputSize: [c.x[2], c.x[3]], tuning: c.tuning });
    keep.push(dx);
    expect(dx.shape).toEqual(c.x);
    if (!withWeightGrad) return { dx: await ctx.read(dx), dw: null, db: null };
    const dw = await conv2dWeightGrad(ctx, x, dY, { stride: c.stride, padding: c.padding, kernel: [c.k, c.k] });
    const db = await sumBiasGrad(ctx, dY);
    keep.push(dw, db);
    expect(dw.shape).toEqual(d.wShape);
    expect(db.shape).toEqual([c.cout]);
    return { dx: await ctx.read(dx), dw: await ctx.read(dw), db: await ctx.read(db) };
  });
  ctx.release(...keep);
  const none: Comparison = { maxAbs: 0, maxRel: 0, scale: 0, worstIndex: -1 };
  return {
    dx: compare(got.dx, conv2dInputGradReference(d.dy, d.w, g)),
    dw: got.dw ? compare(got.dw, conv2dWeightGradReference(d.x, d.dy, g)) : none,
    db: got.db ? compare(got.db, biasGradReference(d.dy, d.dyShape)) : none,
  };
}

async function checkAll(ctx: GpuContext, dtype: DType, tol: number, cases: Case[]) {
  let seed = dtype === 'f16' ? 900 : 300;
  for (const c of cases) {
    // the weight/bias gradients are tiling-independent: check them once per geometry
    const r = await runCase(ctx, c, dtype, (seed += 10), !c.tuning);
    console.log(`conv2d backward ${dtype} ${c.name}: dX ${describeComparison(r.dx)}; dW ${describeComparison(r.dw)}; db ${describeComparison(r.db)}`);
    expect(r.dx.maxRel, `${c.name} dX`).toBeLessThanOrEqual(tol);
    expect(r.dw.maxRel, `${c.name} dW`).toBeLessThanOrEqual(tol);
    expect(r.db.maxRel, `${c.name} db`).toBeLessThanOrEqual(tol);
  }
}

describe(`conv2d backward on ${TEST_ADAPTER}`, () => {
  it('input, weight and bias gradients match the f64 reference in f32 (odd shapes, stride 1/2, 1×1 and 3×3)', async () => {
    const ctx = await testContext();
    await checkAll(ctx, 'f32', 1e-5, CASES);
  });

  it('runs f16 storage with f32 accumulation where shader-f16 exists, and refuses it where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      await checkAll(ctx, 'f16', 3e-3, CASES.filter((c) => c.tuning?.threads !== 16));
    } else {
      expect(ctx.hasF16).toBe(false);
      const dY = ctx.upload(new Float32Array(4), [1, 1, 2, 2], 'f32', 'dY');
      const w = ctx.upload(new Float32Array(9), [1, 1, 3, 3], 'f32', 'w');
      const fake = (t: Tensor): Tensor => ({ ...t, dtype: 'f16' });
      await expect(conv2dInputGrad(ctx, fake(dY), fake(w), { stride: 1, padding: 1, inputSize: [2, 2] })).rejects.toThrow(FeatureMissingError);
      await expect(conv2dWeightGrad(ctx, fake(dY), fake(dY), { stride: 1, padding: 1, kernel: [3, 3] })).rejects.toThrow(FeatureMissingError);
      ctx.release(dY, w);
    }
  });

  it('rejects an input size that the conv does not map to dY, and mismatched channels', async () => {
    const ctx = await testContext();
    const dY = ctx.upload(randomArray(2 * 8 * 5 * 6, 1), [2, 8, 5, 6], 'f32', 'dY');
    const w = ctx.upload(randomArray(8 * 6 * 9, 2), [8, 6, 3, 3], 'f32', 'w');
    const w7 = ctx.upload(randomArray(7 * 6 * 9, 3), [7, 6, 3, 3], 'f32', 'w7');
    await expect(conv2dInputGrad(ctx, dY, w, { stride: 2, padding: 1, inputSize: [12, 11] })).rejects.toThrow(/maps 12×11 to 6×6/);
    await expect(conv2dInputGrad(ctx, dY, w7, { stride: 2, padding: 1, inputSize: [9, 11] })).rejects.toThrow(/7 output channels/);
    // 9×11 and 10×12 both give 5×6 after a stride-2 conv: the explicit size picks which one comes back
    const a = await conv2dInputGrad(ctx, dY, w, { stride: 2, padding: 1, inputSize: [9, 11] });
    const b = await conv2dInputGrad(ctx, dY, w, { stride: 2, padding: 1, inputSize: [10, 12] });
    expect(a.shape).toEqual([2, 6, 9, 11]);
    expect(b.shape).toEqual([2, 6, 10, 12]);
    ctx.release(dY, w, w7, a, b);
  });
});
