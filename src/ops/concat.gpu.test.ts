import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { randomArray } from '../../tests/numeric';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { GpuContext } from '../gpu/context';
import type { DType } from '../gpu/tensor';
import { concat, concatChannels, concatShape } from './concat';
import { concatReference, type HostTensor } from './small-ops.reference';

const numelOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

async function runConcat(ctx: GpuContext, shapes: number[][], axis: number, dtype: DType, seed: number) {
  const host: HostTensor[] = shapes.map((shape, i) => {
    const data = randomArray(numelOf(shape), seed + i);
    return { shape, data: dtype === 'f16' ? roundToF16(data) : data };
  });
  const inputs = host.map((t, i) => ctx.upload(t.data, t.shape, dtype, `concat-in${i}`));
  const got = await checked(ctx, `concat ${dtype} axis ${axis}`, async () => {
    const out = await concat(ctx, inputs, axis);
    const values = { shape: [...out.shape], data: await ctx.read(out) };
    ctx.release(out);
    return values;
  });
  ctx.release(...inputs);
  const normAxis = axis < 0 ? axis + shapes[0]!.length : axis;
  return { got, expected: concatReference(host, normAxis) };
}

const CASES: { shapes: number[][]; axis: number }[] = [
  { shapes: [[2, 3, 5, 7], [2, 5, 5, 7]], axis: 1 }, // skip connection, different channel counts
  { shapes: [[1, 48, 3, 5], [1, 16, 3, 5]], axis: 1 },
  { shapes: [[2, 3, 5, 7], [1, 3, 5, 7]], axis: 0 },
  { shapes: [[2, 3, 5, 7], [2, 3, 2, 7], [2, 3, 1, 7]], axis: 2 }, // three inputs
  { shapes: [[3, 5], [3, 11]], axis: -1 }, // text_embeds ++ time_ids embedding
  { shapes: [[7], [0], [4]], axis: 0 }, // an empty input
];

describe(`concat on ${TEST_ADAPTER}`, () => {
  it('concatenates odd f32 shapes along any axis exactly', async () => {
    const ctx = await testContext();
    for (const [i, c] of CASES.entries()) {
      const { got, expected } = await runConcat(ctx, c.shapes, c.axis, 'f32', 10 * i);
      expect(got.shape).toEqual(expected.shape);
      expect(Array.from(got.data), JSON.stringify(c)).toEqual(Array.from(expected.data));
    }
  });

  it('concatChannels is cat([a, b], dim=1) on NCHW', async () => {
    const ctx = await testContext();
    const a = ctx.upload(randomArray(2 * 3 * 2 * 3, 1), [2, 3, 2, 3], 'f32', 'a');
    const b = ctx.upload(randomArray(2 * 1 * 2 * 3, 2), [2, 1, 2, 3], 'f32', 'b');
    const out = await checked(ctx, 'concatChannels', () => concatChannels(ctx, a, b));
    expect(out.shape).toEqual([2, 4, 2, 3]);
    const expected = concatReference(
      [{ data: await ctx.read(a), shape: a.shape }, { data: await ctx.read(b), shape: b.shape }],
      1,
    );
    expect(Array.from(await ctx.read(out))).toEqual(Array.from(expected.data));
    await expect(concatChannels(ctx, a, { ...b, shape: [2, 6] })).rejects.toThrow(RangeError);
    ctx.release(a, b, out);
  });

  it('writes adjacent f16 elements from different inputs where shader-f16 exists, refuses f16 where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      // Odd rows (3 and 1 elements): neighbouring halves of one 32-bit word come from different inputs.
      for (const c of [CASES[0]!, { shapes: [[5, 3], [5, 1], [5, 1]], axis: 1 }]) {
        const { got, expected } = await runConcat(ctx, c.shapes, c.axis, 'f16', 3);
        expect(Array.from(got.data), JSON.stringify(c)).toEqual(Array.from(expected.data));
      }
    } else {
      expect(ctx.hasF16).toBe(false);
      expect(() => ctx.upload(new Float32Array(3), [3], 'f16', 'concat-f16')).toThrow(FeatureMissingError);
      const t = ctx.upload(new Float32Array(3), [3], 'f32', 'concat-fake');
      await expect(concat(ctx, [{ ...t, dtype: 'f16' }], 0)).rejects.toThrow(FeatureMissingError);
      ctx.release(t);
    }
  });

  it('checks shapes, axes and dtypes', async () => {
    expect(concatShape([[2, 3, 4], [2, 5, 4]], 1)).toEqual([2, 8, 4]);
    expect(concatShape([[2, 3], [2, 5]], -1)).toEqual([2, 8]);
    expect(() => concatShape([[2, 3, 4], [2, 5, 5]], 1)).toThrow(RangeError);
    expect(() => concatShape([[2, 3], [2, 3, 1]], 0)).toThrow(RangeError);
    expect(() => concatShape([[2, 3]], 2)).toThrow(RangeError);
    expect(() => concatShape([], 0)).toThrow(RangeError);
    const ctx = await testContext();
    const a = ctx.upload(new Float32Array(4), [2, 2], 'f32', 'a');
    await expect(concat(ctx, [a, { ...a, dtype: 'f16' }], 0)).rejects.toThrow(RangeError);
    ctx.release(a);
  });
});
