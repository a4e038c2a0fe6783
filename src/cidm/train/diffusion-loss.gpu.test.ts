import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import type { DType, Tensor } from '../../gpu/tensor';
import { epsMse, maskedEpsMse, maskSums, prepareLossMask } from './diffusion-loss';
import { epsMseReference, maskedEpsMseReference } from './diffusion-loss.reference';
import { EmptyMaskError } from './errors';

const SHAPE = [3, 4, 9, 11];
const N = 3 * 4 * 9 * 11;

/** A soft mask: sample 0 all ones, 1 a bilinear-like edge, 2 a small patch. */
function makeMask(): Float32Array {
  const m = new Float32Array(3 * 9 * 11);
  for (let i = 0; i < 99; i++) {
    const y = Math.floor(i / 11);
    const x = i % 11;
    m[i] = 1;
    m[99 + i] = x < 5 ? 1 : x === 5 ? 0.5 : 0;
    m[198 + i] = y >= 2 && y < 4 && x >= 7 ? 1 : 0;
  }
  return m;
}

interface Run {
  loss: number;
  grad: Float32Array;
}

async function run(ctx: GpuContext, dtype: DType, targetDtype: DType, masked: boolean, gradScale: number, pred: Float32Array, target: Float32Array, mask: Float32Array): Promise<Run> {
  const keep: Tensor[] = [];
  const up = (d: Float32Array, dt: DType, label: string) => {
    const t = ctx.upload(d, SHAPE, dt, label);
    keep.push(t);
    return t;
  };
  const r = await checked(ctx, `eps-mse ${dtype}`, async () => {
    const p = up(pred, dtype, 'pred');
    const t = up(target, targetDtype, 'target');
    let res;
    if (masked) {
      const m = prepareLossMask(ctx, mask, [3, 1, 9, 11]);
      keep.push(m.tensor);
      res = await maskedEpsMse(ctx, p, t, m, { gradScale });
    } else {
      res = await epsMse(ctx, p, t, { gradScale });
    }
    keep.push(res.loss, res.grad);
    expect(res.grad.dtype).toBe(dtype);
    return { loss: (await ctx.read(res.loss))[0]!, grad: await ctx.read(res.grad) };
  });
  ctx.release(...keep);
  return r;
}

async function check(ctx: GpuContext, dtype: DType, targetDtype: DType, masked: boolean, gradScale: number, tol: number) {
  const round = (a: Float32Array, dt: DType) => (dt === 'f16' ? roundToF16(a) : a);
  const pred = round(randomArray(N, 5, -2, 2), dtype);
  const target = round(randomArray(N, 6, -2, 2), targetDtype);
  const mask = makeMask();
  const ref = masked ? maskedEpsMseReference(pred, target, mask, SHAPE) : epsMseReference(pred, target);
  const got = await run(ctx, dtype, targetDtype, masked, gradScale, pred, target, mask);
  const g = compare(got.grad.map((v) => v / gradScale), ref.grad);
  const lossRel = Math.abs(got.loss - ref.loss) / ref.loss;
  const what = `${masked ? 'masked ' : ''}eps-mse pred ${dtype} target ${targetDtype} scale ${gradScale}`;
  console.log(`${what}: loss ${got.loss} vs ${ref.loss} (rel ${lossRel.toExponential(2)}); grad ${describeComparison(g)}`);
  expect(lossRel, what).toBeLessThanOrEqual(1e-5);
  expect(g.maxRel, what).toBeLessThanOrEqual(tol);
}

describe(`diffusion loss on ${TEST_ADAPTER}`, () => {
  it('matches the reference in f32, plain and masked (soft mask, pixel-count denominator), with a loss scale', async () => {
    const ctx = await testContext();
    await check(ctx, 'f32', 'f32', false, 1, 1e-6);
    await check(ctx, 'f32', 'f32', true, 1, 1e-6);
    await check(ctx, 'f32', 'f32', true, 256, 1e-6);
  });

  it('runs f16 storage (loss-scaled f16 gradient) where shader-f16 exists, and refuses it by name where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      // the f16 gradient holds 2e/N ≈ 1e-3 values: a loss scale of 1024 keeps them far from subnormals
      await check(ctx, 'f16', 'f32', false, 1024, 5e-3);
      await check(ctx, 'f16', 'f16', true, 1024, 5e-3);
      await check(ctx, 'f16', 'f16', true, 1, 5e-3);
    } else {
      expect(ctx.hasF16).toBe(false);
      const p = ctx.upload(new Float32Array(N), SHAPE, 'f32', 'p');
      const fake: Tensor = { ...p, dtype: 'f16' };
      await expect(epsMse(ctx, fake, p)).rejects.toThrow(FeatureMissingError);
      await expect(epsMse(ctx, p, p, { gradDtype: 'f16' })).rejects.toThrow(FeatureMissingError);
      ctx.release(p);
    }
  });

  it('throws EmptyMaskError for a sample without mask pixels, and rejects mismatched shapes', async () => {
    const ctx = await testContext();
    const mask = makeMask();
    mask.fill(0, 99, 198);
    expect(() => maskSums(mask, [3, 1, 9, 11])).toThrow(EmptyMaskError);
    try {
      prepareLossMask(ctx, mask, [3, 1, 9, 11]);
    } catch (e) {
      expect((e as EmptyMaskError).sample).toBe(1);
      expect((e as EmptyMaskError).code).toBe('empty-mask');
    }
    const p = ctx.upload(new Float32Array(N), SHAPE, 'f32', 'p');
    const m = ctx.upload(new Float32Array(297), [3, 1, 9, 11], 'f32', 'm');
    await expect(maskedEpsMse(ctx, p, p, { tensor: m, sums: [1, 0, 1] })).rejects.toThrow(EmptyMaskError);
    await expect(maskedEpsMse(ctx, p, p, { tensor: m, sums: [1, 1] })).rejects.toThrow(RangeError);
    const wrong = ctx.upload(new Float32Array(3 * 99 * 2), [3, 2, 9, 11], 'f32', 'w');
    await expect(maskedEpsMse(ctx, p, p, { tensor: wrong, sums: [1, 1, 1] })).rejects.toThrow(RangeError);
    expect(() => maskSums(Float32Array.from([1, -1]), [1, 1, 1, 2])).toThrow(RangeError);
    ctx.release(p, m, wrong);
  });
});
