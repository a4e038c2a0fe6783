import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import type { DType, Tensor } from '../../gpu/tensor';
import { softmaxReference } from '../reductions.reference';
import { softmaxBackward } from './softmax-backward';
import { softmaxBackwardReference } from './softmax-backward.reference';

const DTYPES: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
/** max |Δ| / max |ref|. f16: the reference sees the same f16-rounded y and dY; dX is stored in f16. */
const TOL: Record<DType, number> = { f32: 1e-5, f16: 2e-3 };

async function runCase(ctx: GpuContext, rows: number, cols: number, dtype: DType, seed: number) {
  const round = (a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);
  // y: a real softmax of wide-range logits (some rows nearly one-hot), as the forward would give
  const y = round(Float32Array.from(softmaxReference(randomArray(rows * cols, seed, -8, 8), cols, 1)));
  const dY = round(randomArray(rows * cols, seed + 1, -2, 2));
  const ty = ctx.upload(y, [rows, cols], dtype, 'y');
  const tdy = ctx.upload(dY, [rows, cols], dtype, 'dY');
  const what = `softmax-bw ${dtype} [${rows}, ${cols}]`;
  const dx = await checked(ctx, what, () => softmaxBackward(ctx, ty, tdy));
  const got = await ctx.read(dx);
  const r = compare(got, softmaxBackwardReference(y, dY, cols));
  console.log(`${what}: ${describeComparison(r)}`);
  expect(r.maxRel, what).toBeLessThanOrEqual(TOL[dtype]);
  ctx.release(ty, tdy, dx);
}

describe(`softmaxBackward on ${TEST_ADAPTER}`, () => {
  it('tests f16 exactly where the adapter has shader-f16', async () => {
    const ctx = await testContext();
    expect(ctx.hasF16).toBe(TEST_ADAPTER === 'lavapipe');
  });

  for (const dtype of DTYPES) {
    it(`matches y ∘ (dY − Σ dY ∘ y) in ${dtype} for rows of 1, 3, 77, 1000 and 4097`, async () => {
      const ctx = await testContext();
      // cols 1 and 3 run the serial variant (one invocation per row), the others share a workgroup
      for (const [rows, cols] of [[5, 1], [7, 3], [13, 77], [3, 1000], [2, 4097]] as const) {
        await runCase(ctx, rows, cols, dtype, rows * 31 + cols);
      }
    });
  }

  it('rejects a dY of another shape, and f16 without shader-f16', async () => {
    const ctx = await testContext();
    const y = ctx.upload(new Float32Array(12), [3, 4], 'f32', 'y');
    const d = ctx.upload(new Float32Array(12), [4, 3], 'f32', 'd');
    await expect(softmaxBackward(ctx, y, d)).rejects.toThrow(/must match/);
    if (!ctx.hasF16) {
      const fake = (t: Tensor): Tensor => ({ ...t, dtype: 'f16' });
      await expect(softmaxBackward(ctx, fake(y), fake(y))).rejects.toThrow(FeatureMissingError);
    }
    ctx.release(y, d);
  });
});
