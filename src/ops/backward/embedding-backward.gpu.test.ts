import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray, rng } from '../../../tests/numeric';
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import type { DType, Tensor } from '../../gpu/tensor';
import { embeddingRowsBackward, gatherIndex, scatterRows } from './embedding-backward';
import { embeddingRowsBackwardReference, scatterRowsReference } from './embedding-backward.reference';

const DTYPES: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
/** Sums of a few rows in f32: f32 input gives exact-to-rounding sums; f16 input is rounded for the reference too. */
const TOL = 1e-6;

/** Token ids as CLIP would give them, with the learned rows (49408, 49409, …) placed at some positions. */
function tokenIds(n: number, seed: number, learned: number[]): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() < 0.3 ? learned[Math.floor(r() * learned.length)]! : Math.floor(r() * 49408)));
}

async function runRows(ctx: GpuContext, shape: number[], dtype: DType, rowStart: number, rows: number, ids: number[]) {
  const dim = shape[shape.length - 1]!;
  const dX = dtype === 'f16' ? roundToF16(randomArray(ids.length * dim, ids.length, -2, 2)) : randomArray(ids.length * dim, ids.length, -2, 2);
  const t = ctx.upload(dX, shape, dtype, 'dX');
  const what = `embedding-rows-bw ${dtype} [${shape.join(',')}] rows ${rowStart}+${rows}`;
  const out = await checked(ctx, what, () => embeddingRowsBackward(ctx, ids, t, rowStart, rows));
  expect(out.shape).toEqual([rows, dim]);
  expect(out.dtype).toBe('f32');
  const r = compare(await ctx.read(out), embeddingRowsBackwardReference(ids, dX, dim, rowStart, rows));
  console.log(`${what}: ${describeComparison(r)}`);
  expect(r.maxRel, what).toBeLessThanOrEqual(TOL);
  ctx.release(t, out);
}

describe(`embeddingRowsBackward and scatterRows on ${TEST_ADAPTER}`, () => {
  it('builds the CSR index of output row → source rows in ascending order', () => {
    // sources 0..5 feed rows [2, -, 0, 2, 2, 0] (-1: none)
    expect(Array.from(gatherIndex([2, -1, 0, 2, 2, 0], 4))).toEqual([5, 7, 7, 10, 10, 2, 5, 0, 3, 4]);
  });

  it('tests f16 exactly where the adapter has shader-f16', async () => {
    const ctx = await testContext();
    expect(ctx.hasF16).toBe(TEST_ADAPTER === 'lavapipe');
  });

  for (const dtype of DTYPES) {
    it(`embeddingRowsBackward sums dX over the positions of each learned row, f32 out, from ${dtype} dX`, async () => {
      const ctx = await testContext();
      // 3 prompts × 77 tokens, hidden 33; learned rows 49408.. 49410, one of them never used
      const ids = tokenIds(3 * 77, 7, [49408, 49409]);
      await runRows(ctx, [3, 77, 33], dtype, 49408, 3, ids);
      // a block of ordinary vocabulary rows, and [B·T, D] input; ids that repeat many times
      const small = tokenIds(2 * 13, 8, [5, 6, 7]).map((v) => v % 9);
      await runRows(ctx, [26, 17], dtype, 3, 5, small);
    });
  }

  it('scatterRows adds dRows at their row indices (repeats add up) into a zero tensor', async () => {
    const ctx = await testContext();
    for (const dtype of DTYPES) {
      const rowIndex = [7, 77 + 9, 2 * 77 + 3, 7]; // pooled EOS rows of 3 sequences, one picked twice
      const dim = 45;
      const data = dtype === 'f16' ? roundToF16(randomArray(rowIndex.length * dim, 3)) : randomArray(rowIndex.length * dim, 3);
      const t = ctx.upload(data, [rowIndex.length, dim], dtype, 'dRows');
      const out = await checked(ctx, `scatter-rows ${dtype}`, () => scatterRows(ctx, t, rowIndex, 3 * 77));
      expect(out.shape).toEqual([3 * 77, dim]);
      expect(out.dtype).toBe(dtype);
      const r = compare(await ctx.read(out), scatterRowsReference(data, dim, rowIndex, 3 * 77));
      console.log(`scatter-rows ${dtype}: ${describeComparison(r)}`);
      expect(r.maxRel).toBeLessThanOrEqual(dtype === 'f16' ? 1e-3 : TOL);
      const f32 = await scatterRows(ctx, t, rowIndex, 3 * 77, { dtype: 'f32' });
      expect(f32.dtype).toBe('f32');
      expect(compare(await ctx.read(f32), scatterRowsReference(data, dim, rowIndex, 3 * 77)).maxRel).toBeLessThanOrEqual(TOL);
      ctx.release(t, out, f32);
    }
  });

  it('rejects bad shapes and indices, and f16 without shader-f16', async () => {
    const ctx = await testContext();
    const t = ctx.upload(new Float32Array(12), [4, 3], 'f32', 'dX');
    await expect(embeddingRowsBackward(ctx, [1, 2, 3], t, 0, 4)).rejects.toThrow(/ids/);
    await expect(scatterRows(ctx, t, [0, 1, 2], 5)).rejects.toThrow(/one row per index/);
    await expect(scatterRows(ctx, t, [0, 1, 2, 5], 5)).rejects.toThrow(/outside/);
    if (!ctx.hasF16) {
      const fake = (x: Tensor): Tensor => ({ ...x, dtype: 'f16' });
      await expect(embeddingRowsBackward(ctx, [1, 2, 3, 4], fake(t), 0, 4)).rejects.toThrow(FeatureMissingError);
    }
    ctx.release(t);
  });
});
