import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import { numel, type DType, type Tensor } from '../../gpu/tensor';
import { activationBackward, BACKWARD_ACTIVATIONS, gegluBackward, type BackwardActivation } from './activation-backward';
import { activationBackwardReference, gegluBackwardReference } from './activation-backward.reference';

const DTYPES: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
/** max |Δ| / max |ref|. f16: the reference sees the same f16-rounded inputs; the result is stored in f16. */
const TOL: Record<DType, number> = { f32: 1e-5, f16: 2e-3 };
/** Tails and the origin, where the derivatives bend or saturate (σ overflow, Φ underflow). */
const SPECIAL = [-30, -12, -6, -3.5, -1, -1e-3, 0, 1e-3, 1, 3.5, 6, 12, 30];

const round = (dtype: DType, a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);

function inputs(shape: number[], seed: number): Float32Array {
  const n = numel(shape);
  if (n < 4 * SPECIAL.length) return randomArray(n, seed, -2, 2); // tiny tensors: values of ordinary size
  const x = randomArray(n, seed, -6, 6);
  x.set(SPECIAL);
  return x;
}

async function runActivation(ctx: GpuContext, act: BackwardActivation, shape: number[], dtype: DType, seed: number) {
  const x = round(dtype, inputs(shape, seed));
  const dY = round(dtype, randomArray(x.length, seed + 1, -2, 2));
  const tx = ctx.upload(x, shape, dtype, 'x');
  const tdy = ctx.upload(dY, shape, dtype, 'dY');
  const what = `${act}-bw ${dtype} [${shape.join(',')}]`;
  const dx = await checked(ctx, what, () => activationBackward(ctx, act, tx, tdy));
  expect(dx.shape).toEqual(shape);
  expect(dx.dtype).toBe(dtype);
  const r = compare(await ctx.read(dx), activationBackwardReference(act, x, dY));
  console.log(`${what}: ${describeComparison(r)}`);
  expect(r.maxRel, what).toBeLessThanOrEqual(TOL[dtype]);
  ctx.release(tx, tdy, dx);
}

async function runGeglu(ctx: GpuContext, shape: number[], dtype: DType, seed: number) {
  const features = shape[shape.length - 1]! / 2;
  const rows = numel(shape) / (2 * features);
  const h = round(dtype, inputs(shape, seed));
  const dY = round(dtype, randomArray(rows * features, seed + 1, -2, 2));
  const th = ctx.upload(h, shape, dtype, 'h');
  const tdy = ctx.upload(dY, [...shape.slice(0, -1), features], dtype, 'dY');
  const what = `geglu-bw ${dtype} [${shape.join(',')}]`;
  const dh = await checked(ctx, what, () => gegluBackward(ctx, th, tdy));
  expect(dh.shape).toEqual(shape);
  const r = compare(await ctx.read(dh), gegluBackwardReference(h, dY, rows, features));
  console.log(`${what}: ${describeComparison(r)}`);
  expect(r.maxRel, what).toBeLessThanOrEqual(TOL[dtype]);
  ctx.release(th, tdy, dh);
}

describe(`activationBackward and gegluBackward on ${TEST_ADAPTER}`, () => {
  it('tests f16 exactly where the adapter has shader-f16', async () => {
    const ctx = await testContext();
    expect(ctx.hasF16).toBe(TEST_ADAPTER === 'lavapipe');
  });

  for (const dtype of DTYPES) {
    it(`silu, gelu (erf), gelu_tanh and quick_gelu match the analytic derivatives in ${dtype}`, async () => {
      const ctx = await testContext();
      let seed = 1;
      for (const act of BACKWARD_ACTIVATIONS) {
        await runActivation(ctx, act, [3, 7, 37], dtype, (seed += 10));
        await runActivation(ctx, act, [1], dtype, (seed += 10));
      }
    });

    it(`gegluBackward gives [dY·gelu(gate), dY·a·gelu′(gate)] in ${dtype} (odd F, several rows)`, async () => {
      const ctx = await testContext();
      await runGeglu(ctx, [2, 5, 26], dtype, 100);
      await runGeglu(ctx, [3, 40], dtype, 200);
      await runGeglu(ctx, [1, 2], dtype, 300);
    });
  }

  it('rejects mismatched shapes and dtypes, and f16 without shader-f16', async () => {
    const ctx = await testContext();
    const x = ctx.upload(new Float32Array(12), [2, 6], 'f32', 'x');
    const y = ctx.upload(new Float32Array(6), [2, 3], 'f32', 'y');
    await expect(activationBackward(ctx, 'silu', x, y)).rejects.toThrow(/must match/);
    await expect(gegluBackward(ctx, x, x)).rejects.toThrow(/dY/);
    await expect(activationBackward(ctx, 'erf' as BackwardActivation, x, x)).rejects.toThrow(/no backward/);
    if (!ctx.hasF16) {
      const fake = (t: Tensor): Tensor => ({ ...t, dtype: 'f16' });
      await expect(activationBackward(ctx, 'gelu', fake(x), fake(x))).rejects.toThrow(FeatureMissingError);
      await expect(gegluBackward(ctx, fake(x), fake(y))).rejects.toThrow(FeatureMissingError);
    }
    ctx.release(x, y);
  });
});
