/**
 * The matmul's residual epilogue (issue 15 point 3): C = alpha·op(A)·op(B) + bias + R in one dispatch,
 * against the f64 reference plus R, for the naive kernel, the tiled one (aligned and unaligned C) and
 * split-K (the residual is added once, in the reduce), in f32, f16 (lavapipe) and with packed B.
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext } from '../../tests/gpu-harness';
import { randomArray } from '../../tests/numeric';
import { roundToF16 } from '../gpu/f16';
import type { DType } from '../gpu/tensor';
import { matmul, type MatmulVariant } from './matmul';
import { matmulReference } from './matmul.reference';

const f16 = process.env.CIDM_ADAPTER === 'lavapipe';
let seed = 900;

async function check(o: { M: number; K: number; N: number; batch?: number; variant: MatmulVariant; splitK?: number; dtype: DType; packed?: boolean; bias?: boolean }) {
  const ctx = await testContext();
  const round = (v: Float32Array) => (o.dtype === 'f16' || o.packed ? roundToF16(v) : v);
  const batch = o.batch ?? 1;
  const aShape = [...(batch > 1 ? [batch] : []), o.M, o.K];
  const bShape = [o.N, o.K]; // a Linear weight, used transposed
  const a = round(randomArray(batch * o.M * o.K, seed++));
  const b = round(randomArray(o.N * o.K, seed++, -0.5, 0.5));
  const bias = o.bias ? round(randomArray(o.N, seed++)) : undefined;
  const r = round(randomArray(batch * o.M * o.N, seed++));
  const ta = ctx.upload(a, aShape, o.dtype, 'a');
  const tb = o.packed ? ctx.uploadWeight(b, bShape, 'f16', 'b') : ctx.upload(b, bShape, o.dtype, 'b');
  const tbias = bias ? ctx.upload(bias, [o.N], o.dtype, 'bias') : undefined;
  const tr = ctx.upload(r, [...(batch > 1 ? [batch] : []), o.M, o.N], o.dtype, 'residual');
  const tag = `${o.dtype}${o.packed ? ' packed B' : ''} ${o.variant}${o.splitK ? ` split ${o.splitK}` : ''} [${batch}×${o.M}×${o.K}]·[${o.N}×${o.K}]ᵀ + R`;
  const got = await checked(ctx, tag, async () => {
    const c = await matmul(ctx, ta, tb, { transB: true, variant: o.variant, residual: tr, ...(tbias ? { bias: tbias } : {}), ...(o.splitK ? { splitK: o.splitK } : {}) });
    const v = await ctx.read(c);
    ctx.release(c);
    return v;
  });
  const ref = matmulReference(a, aShape, b, bShape, { transB: true, ...(bias ? { bias } : {}) });
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const want = ref.data[i]! + r[i]!;
    worst = Math.max(worst, Math.abs(got[i]! - want));
    scale = Math.max(scale, Math.abs(want));
  }
  ctx.release(ta, tr, ...(tbias ? [tbias] : []));
  if (o.packed) ctx.destroyTensor(tb);
  else ctx.release(tb);
  // f32: accumulation error only; f16 storage: one rounding of the result
  expect(worst, tag).toBeLessThan(o.dtype === 'f16' ? 4e-3 * Math.max(1, scale) : 1e-5 * Math.max(1, scale) * Math.sqrt(o.K));
}

describe('matmul residual epilogue', () => {
  const dtype: DType = f16 ? 'f16' : 'f32';
  it(`naive and tiled, odd shapes, with and without bias (${dtype})`, async () => {
    await check({ M: 7, K: 9, N: 5, variant: 'naive', dtype, bias: true });
    await check({ M: 67, K: 45, N: 70, variant: 'tiled', dtype }); // N % 4 ≠ 0: scalar C
    await check({ M: 33, K: 20, N: 64, batch: 2, variant: 'tiled', dtype, bias: true }); // vec4 C, batched A
  });
  it(`split-K adds the residual once, in the reduce (${dtype})`, async () => {
    await check({ M: 19, K: 300, N: 36, variant: 'tiled', splitK: 3, dtype, bias: true });
  });
  it('packed f16 B under f32 compute', async () => {
    await check({ M: 21, K: 34, N: 66, variant: 'tiled', dtype: 'f32', packed: true, bias: true });
    await check({ M: 5, K: 7, N: 9, variant: 'naive', dtype: 'f32', packed: true });
  });
  it('refuses a residual of the wrong shape by name', async () => {
    const ctx = await testContext();
    const a = ctx.upload(new Float32Array(6), [2, 3], 'f32', 'a');
    const b = ctx.upload(new Float32Array(12), [4, 3], 'f32', 'b');
    const r = ctx.upload(new Float32Array(6), [2, 3], 'f32', 'r');
    await expect(matmul(ctx, a, b, { transB: true, residual: r })).rejects.toThrow(/residual/);
    ctx.release(a, b, r);
  });
});
