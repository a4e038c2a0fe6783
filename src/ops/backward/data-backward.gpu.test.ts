import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import { numel, type DType, type Tensor } from '../../gpu/tensor';
import type { GpuContext } from '../../gpu/context';
import { reduceToShape, split, splitChannels, splitLast, upsampleNearestBackward } from './data-backward';
import { reduceToShapeReference, splitReference, upsampleNearestBackwardReference } from './data-backward.reference';

type Shape4 = [number, number, number, number];

const UPSAMPLE_CASES: { name: string; dy: Shape4; input: [number, number] }[] = [
  { name: '2× (Upsample2D)', dy: [2, 3, 8, 10], input: [4, 5] },
  { name: 'explicit output_size 4×5 → 7×10', dy: [1, 3, 7, 10], input: [4, 5] },
  { name: 'explicit output_size 7×10 → 13×19', dy: [2, 2, 13, 19], input: [7, 10] },
  { name: 'non-integer 3×3 → 11×7', dy: [1, 2, 11, 7], input: [3, 3] },
  { name: 'shrink 9×11 → 5×4 (some sources get nothing)', dy: [1, 2, 5, 4], input: [9, 11] },
];

const SPLIT_CASES: { name: string; shape: number[]; sizes: number[]; axis: 'channels' | 'last' | number }[] = [
  { name: 'channels 9 → 3+5+1', shape: [2, 9, 7, 5], sizes: [3, 5, 1], axis: 'channels' },
  { name: 'channels 13 → 7+6', shape: [1, 13, 3, 3], sizes: [7, 6], axis: 'channels' },
  { name: 'channels with an empty piece', shape: [2, 4, 3, 5], sizes: [4, 0], axis: 'channels' },
  { name: 'last 25 → 16+9', shape: [3, 7, 25], sizes: [16, 9], axis: 'last' },
  { name: 'last 80 → 32+48 (CLIP-L ‖ bigG states)', shape: [2, 77, 80], sizes: [32, 48], axis: 'last' },
  { name: 'middle axis of a rank-3 tensor', shape: [3, 11, 5], sizes: [2, 9], axis: 1 },
];

const REDUCE_CASES: { name: string; from: number[]; to: number[] }[] = [
  { name: 'time-embedding add [B,C,H,W] → [B,C,1,1]', from: [2, 5, 7, 9], to: [2, 5, 1, 1] },
  { name: 'batch broadcast [B,T,C] → [1,T,C]', from: [3, 13, 11], to: [1, 13, 11] },
  { name: 'conv bias [N,C,H,W] → [1,C,1,1] (two passes)', from: [2, 5, 7, 9], to: [1, 5, 1, 1] },
  { name: 'fewer axes [2,3,5] → [5]', from: [2, 3, 5], to: [5] },
  { name: 'long leading axis [300,7] → [1,7] (segmented)', from: [300, 7], to: [1, 7] },
  { name: 'alternating [4,6,5,3] → [4,1,5,1]', from: [4, 6, 5, 3], to: [4, 1, 5, 1] },
  { name: 'size-1 axes in dY [2,1,5] → [1,1,5]', from: [2, 1, 5], to: [1, 1, 5] },
  { name: 'nothing to reduce (copy)', from: [2, 3, 5], to: [2, 3, 5] },
];

function upload(ctx: GpuContext, keep: Tensor[], data: Float32Array, shape: readonly number[], dtype: DType): Tensor {
  const t = ctx.upload(data, shape, dtype, 'input');
  keep.push(t);
  return t;
}

async function checkAll(ctx: GpuContext, dtype: DType, tol: number): Promise<void> {
  const round = (a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);
  let seed = dtype === 'f16' ? 700 : 200;
  const keep: Tensor[] = [];

  for (const c of UPSAMPLE_CASES) {
    const dy = round(randomArray(numel(c.dy), (seed += 7)));
    const got = await checked(ctx, `upsample backward ${c.name}`, async () => {
      const dx = await upsampleNearestBackward(ctx, upload(ctx, keep, dy, c.dy, dtype), c.input);
      keep.push(dx);
      expect(dx.shape).toEqual([c.dy[0], c.dy[1], ...c.input]);
      return ctx.read(dx);
    });
    const r = compare(got, upsampleNearestBackwardReference(dy, c.dy, c.input[0], c.input[1]));
    console.log(`upsample backward ${dtype} ${c.name}: ${describeComparison(r)}`);
    expect(r.maxRel, c.name).toBeLessThanOrEqual(tol);
  }

  for (const c of SPLIT_CASES) {
    const x = round(randomArray(numel(c.shape), (seed += 7)));
    const axis = c.axis === 'channels' ? 1 : c.axis === 'last' ? c.shape.length - 1 : c.axis;
    const got = await checked(ctx, `split ${c.name}`, async () => {
      const t = upload(ctx, keep, x, c.shape, dtype);
      const pieces = c.axis === 'channels' ? await splitChannels(ctx, t, c.sizes) : c.axis === 'last' ? await splitLast(ctx, t, c.sizes) : await split(ctx, t, c.sizes, c.axis);
      keep.push(...pieces);
      pieces.forEach((p, i) => expect(p.shape).toEqual(c.shape.map((d, a) => (a === axis ? c.sizes[i] : d))));
      return Promise.all(pieces.map((p) => ctx.read(p)));
    });
    const expected = splitReference(x, c.shape, c.sizes, axis);
    got.forEach((g, i) => expect(Array.from(g), `${c.name} piece ${i}`).toEqual(Array.from(expected[i]!)));
    console.log(`split ${dtype} ${c.name}: exact`);
  }

  for (const c of REDUCE_CASES) {
    const dy = round(randomArray(numel(c.from), (seed += 7)));
    const got = await checked(ctx, `reduceToShape ${c.name}`, async () => {
      const out = await reduceToShape(ctx, upload(ctx, keep, dy, c.from, dtype), c.to);
      keep.push(out);
      expect(out.shape).toEqual(c.to);
      return ctx.read(out);
    });
    const r = compare(got, reduceToShapeReference(dy, c.from, c.to));
    console.log(`reduceToShape ${dtype} ${c.name}: ${describeComparison(r)}`);
    expect(r.maxRel, c.name).toBeLessThanOrEqual(tol);
  }
  ctx.release(...keep);
}

describe(`data-movement backward on ${TEST_ADAPTER}`, () => {
  it('upsample backward, split and reduceToShape match the references in f32', async () => {
    const ctx = await testContext();
    await checkAll(ctx, 'f32', 1e-6);
  });

  it('runs f16 storage with f32 accumulation where shader-f16 exists, and refuses it where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      // the only error left is the f16 rounding of each result (2^-11 relative)
      await checkAll(ctx, 'f16', 1e-3);
    } else {
      expect(ctx.hasF16).toBe(false);
      const t = ctx.upload(new Float32Array(8), [1, 2, 2, 2], 'f32', 't');
      const fake: Tensor = { ...t, dtype: 'f16' };
      await expect(upsampleNearestBackward(ctx, fake, [1, 1])).rejects.toThrow(FeatureMissingError);
      await expect(splitChannels(ctx, fake, [1, 1])).rejects.toThrow(FeatureMissingError);
      await expect(reduceToShape(ctx, fake, [1, 2, 1, 1])).rejects.toThrow(FeatureMissingError);
      ctx.release(t);
    }
  });

  it('rejects shapes that do not broadcast and sizes that do not add up', async () => {
    const ctx = await testContext();
    const t = ctx.upload(new Float32Array(2 * 5 * 3 * 3), [2, 5, 3, 3], 'f32', 't');
    await expect(reduceToShape(ctx, t, [3, 5, 1, 1])).rejects.toThrow(/does not broadcast/);
    await expect(reduceToShape(ctx, t, [1, 2, 5, 3, 3])).rejects.toThrow(/more axes/);
    await expect(splitChannels(ctx, t, [2, 2])).rejects.toThrow(/do not add up to 5/);
    ctx.release(t);
  });
});
