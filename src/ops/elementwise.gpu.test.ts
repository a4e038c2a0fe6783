import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { DType, Tensor } from '../gpu/tensor';
import { add, affine, binary, erf, mul, scale, sub, unary, type Activation, type BinaryOp } from './elementwise';
import { binaryReference, unaryReference } from './elementwise.reference';

const F32_TOL = 1e-6;
const F16_TOL = 2e-3;
const SIZES = [1, 17, 1000, 65537];
const ACTIVATIONS: Activation[] = ['silu', 'gelu', 'gelu_tanh', 'quick_gelu'];

/** Runs `op` inside error scopes, reads its result back, releases every tensor involved. */
async function gpuRun(ctx: GpuContext, scope: string, inputs: Tensor[], op: () => Promise<Tensor>): Promise<Float32Array> {
  const out = await checked(ctx, scope, op);
  const got = await checked(ctx, `${scope} readback`, () => ctx.read(out));
  ctx.release(out, ...inputs.filter((t) => t !== out));
  return got;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  const c = compare(got, want);
  if (process.env.CIDM_VERBOSE) console.log(`${what}: ${describeComparison(c)}`);
  expect(c.maxRel, `${what}: ${describeComparison(c)}`).toBeLessThanOrEqual(tol);
}

async function binaryCase(ctx: GpuContext, op: BinaryOp, aShape: number[], bShape: number[], dtype: DType = 'f32') {
  const na = aShape.reduce((p, d) => p * d, 1);
  const nb = bShape.reduce((p, d) => p * d, 1);
  let a: ArrayLike<number> = randomArray(na, 11 + na, -2, 2);
  let b: ArrayLike<number> = randomArray(nb, 23 + nb, -2, 2);
  if (dtype === 'f16') [a, b] = [roundToF16(a), roundToF16(b)];
  const ta = ctx.upload(a, aShape, dtype, 'a');
  const tb = ctx.upload(b, bShape, dtype, 'b');
  const what = `${op} ${dtype} [${aShape}] ∘ [${bShape}]`;
  const got = await gpuRun(ctx, what, [ta, tb], () => binary(ctx, op, ta, tb));
  const want = binaryReference(op, a, aShape, b, bShape);
  expect(got.length).toBe(want.data.length);
  expectClose(got, want.data, dtype === 'f16' ? F16_TOL : F32_TOL, what);
}

describe(`elementwise on ${TEST_ADAPTER}`, () => {
  it('adds, subtracts and multiplies same-shape f32 tensors of odd sizes', async () => {
    const ctx = await testContext();
    for (const op of ['add', 'sub', 'mul'] as const) {
      for (const n of SIZES) await binaryCase(ctx, op, [n], [n]);
    }
  });

  it('broadcasts the second operand (bias, per-channel NCHW, both sides, 6-D)', async () => {
    const ctx = await testContext();
    await binaryCase(ctx, 'add', [9, 33], [33]); // linear bias [N, C] + [C]
    await binaryCase(ctx, 'add', [2, 5, 7, 3], [2, 5, 1, 1]); // per-sample channel vector, e.g. time embedding
    await binaryCase(ctx, 'mul', [2, 5, 7, 3], [5, 1, 1]); // per-channel scale
    await binaryCase(ctx, 'sub', [3, 1], [1, 17]); // both operands broadcast
    await binaryCase(ctx, 'mul', [2, 3, 5, 7], [3, 1, 7]); // interleaved broadcast dims
    await binaryCase(ctx, 'add', [2, 1, 3, 1, 2, 3], [1, 4, 3, 5, 1, 3]); // 6 collapsed dims
    await binaryCase(ctx, 'add', [1], [65537]); // a scalar-like first operand
  });

  it('rejects shapes that do not broadcast and outputs of the wrong size', async () => {
    const ctx = await testContext();
    const a = ctx.upload(randomArray(6, 1), [2, 3], 'f32', 'a');
    const b = ctx.upload(randomArray(4, 2), [4], 'f32', 'b');
    await expect(add(ctx, a, b)).rejects.toThrow(RangeError);
    await expect(add(ctx, a, a, { out: b })).rejects.toThrow(/elements/);
    ctx.release(a, b);
  });

  it('computes SiLU, GELU (erf), GELU (tanh) and quick-GELU on odd sizes to 1e-6', async () => {
    const ctx = await testContext();
    for (const act of ACTIVATIONS) {
      for (const n of SIZES) {
        const x = randomArray(n, 100 + n, -8, 8);
        // A lone element deep in GELU's negative tail has an output scale of ~1e-8 (and 0.5x(1+erf)
        // is 0 in f32 there, as in PyTorch): pin it to a mid-range value so n = 1 checks something.
        x[0] = 0.8125;
        const t = ctx.upload(x, [n], 'f32', 'x');
        const got = await gpuRun(ctx, `${act} ${n}`, [t], () => unary(ctx, act, t));
        expectClose(got, unaryReference(act, x), F32_TOL, `${act} n=${n}`);
      }
    }
  });

  it('computes erf itself to within 1e-7 absolute (no driver transcendental)', async () => {
    const ctx = await testContext();
    const n = 20001;
    const x = new Float32Array(n).map((_, i) => -5 + (10 * i) / (n - 1));
    const t = ctx.upload(x, [n], 'f32', 'x');
    const got = await gpuRun(ctx, 'erf', [t], () => erf(ctx, t));
    const c = compare(got, unaryReference('erf', x));
    if (process.env.CIDM_VERBOSE) console.log(`erf: ${describeComparison(c)}`);
    expect(c.maxAbs, describeComparison(c)).toBeLessThanOrEqual(1e-7);
  });

  it('scales, applies x*s+b, and fuses a bias add with GELU', async () => {
    const ctx = await testContext();
    for (const n of [17, 65537]) {
      const x = randomArray(n, 7 + n, -3, 3);
      const t = ctx.upload(x, [n], 'f32', 'x');
      const s = await gpuRun(ctx, 'scale', [], () => scale(ctx, t, -0.375));
      expectClose(s, unaryReference('none', x, -0.375), F32_TOL, `scale n=${n}`);
      const ab = await gpuRun(ctx, 'affine', [t], () => affine(ctx, t, 1.5, -0.25));
      expectClose(ab, unaryReference('none', x, 1.5, -0.25), F32_TOL, `affine n=${n}`);
    }
    const h = randomArray(7 * 19, 5, -3, 3);
    const bias = randomArray(19, 6, -1, 1);
    const th = ctx.upload(h, [7, 19], 'f32', 'h');
    const tb = ctx.upload(bias, [19], 'f32', 'bias');
    const got = await gpuRun(ctx, 'bias+gelu', [th, tb], () => add(ctx, th, tb, { activation: 'gelu' }));
    expectClose(got, binaryReference('add', h, [7, 19], bias, [19], 'gelu').data, F32_TOL, 'add+gelu');
  });

  it('covers more than 65535 workgroups (the grid spills into y)', async () => {
    const ctx = await testContext();
    const n = 65535 * 256 + 17;
    const x = randomArray(n, 3);
    const t = ctx.upload(x, [n], 'f32', 'x');
    const got = await gpuRun(ctx, 'affine 2-D grid', [t], () => affine(ctx, t, 2, 1));
    expectClose(got, unaryReference('none', x, 2, 1), F32_TOL, 'affine 2-D grid');
  });

  it('works in place (out = a), also with a broadcast second operand, and refuses out = b', async () => {
    const ctx = await testContext();
    const a = randomArray(4 * 1000, 31, -1, 1);
    const b = randomArray(1000, 32, -1, 1);
    const ta = ctx.upload(a, [4, 1000], 'f32', 'a');
    const tb = ctx.upload(b, [1000], 'f32', 'b');
    const got = await gpuRun(ctx, 'in-place mul', [tb], async () => {
      const r = await mul(ctx, ta, tb, { out: ta });
      expect(r).toBe(ta);
      return r;
    });
    expectClose(got, binaryReference('mul', a, [4, 1000], b, [1000]).data, F32_TOL, 'in-place mul');
    const tc = ctx.upload(a, [4, 1000], 'f32', 'c');
    const td = ctx.upload(a, [4, 1000], 'f32', 'd');
    await expect(sub(ctx, tc, tc, { out: tc })).rejects.toThrow(/overlap/); // out = a = b
    await expect(sub(ctx, tc, td, { out: td })).rejects.toThrow(/overlap/); // out = b
    ctx.release(td);
    const act = await gpuRun(ctx, 'in-place silu', [], () => unary(ctx, 'silu', tc, { out: tc }));
    expectClose(act, unaryReference('silu', a), F32_TOL, 'in-place silu');
  });

  it('runs f16 storage with f32 math where shader-f16 exists, and names the missing feature where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER !== 'lavapipe') {
      expect(ctx.hasF16).toBe(false);
      const t = ctx.upload(randomArray(17, 3), [17], 'f32', 'x');
      await expect(unary(ctx, 'silu', t, { dtype: 'f16' })).rejects.toThrow(FeatureMissingError);
      ctx.release(t);
      return;
    }
    expect(ctx.hasF16).toBe(true);
    await binaryCase(ctx, 'add', [1001], [1001], 'f16');
    await binaryCase(ctx, 'add', [2, 5, 7, 3], [2, 5, 1, 1], 'f16');
    await binaryCase(ctx, 'mul', [9, 33], [33], 'f16');
    for (const act of [...ACTIVATIONS, 'erf'] as const) {
      const x = roundToF16(randomArray(65537, 9, -6, 6));
      const t = ctx.upload(x, [x.length], 'f16', 'x16');
      const got = await gpuRun(ctx, `${act} f16`, [t], () => unary(ctx, act, t));
      expectClose(got, unaryReference(act, x), F16_TOL, `${act} f16`);
    }
    // Mixed storage: f16 activations plus an f32 bias into an f32 result, and f32 -> f16 output.
    const h = roundToF16(randomArray(5 * 17, 4, -2, 2));
    const bias = randomArray(17, 8, -1, 1);
    const th = ctx.upload(h, [5, 17], 'f16', 'h16');
    const tb = ctx.upload(bias, [17], 'f32', 'bias32');
    const mixed = await gpuRun(ctx, 'f16+f32', [th, tb], () => add(ctx, th, tb, { dtype: 'f32' }));
    expectClose(mixed, binaryReference('add', h, [5, 17], bias, [17]).data, 1e-6, 'f16 + f32 -> f32');
    const x32 = randomArray(1000, 12, -4, 4);
    const t32 = ctx.upload(x32, [1000], 'f32', 'x32');
    const half = await gpuRun(ctx, 'scale f32->f16', [t32], () => scale(ctx, t32, 0.5, { dtype: 'f16' }));
    expectClose(half, unaryReference('none', x32, 0.5), F16_TOL, 'scale f32 -> f16');
  });
});
