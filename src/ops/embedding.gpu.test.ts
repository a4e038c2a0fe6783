import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray, rng } from '../../tests/numeric';
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { DType } from '../gpu/tensor';
import { blockOfIds, embedding, embeddingReference, rowBlocks, type EmbeddingBlock } from './embedding';

/** A [vocab + extra, dim] table split into row blocks of `blockRows`, the extra rows as one more block. */
async function run(ctx: GpuContext, dtype: DType, o: { vocab: number; extra: number; dim: number; blockRows: number; batch: number; seq: number; positions: boolean; seed: number }) {
  const round = (x: Float32Array) => (dtype === 'f16' ? roundToF16(x) : x);
  const rows = o.vocab + o.extra;
  const table = round(randomArray(rows * o.dim, o.seed));
  const pos = o.positions ? round(randomArray((o.seq + 2) * o.dim, o.seed + 1)) : null;
  const r = rng(o.seed + 2);
  const ids = Array.from({ length: o.batch * o.seq }, () => Math.floor(r() * rows));
  if (o.extra > 0) ids.splice(0, 2, o.vocab, rows - 1); // first and last extra row
  const blocks: EmbeddingBlock[] = rowBlocks(o.vocab, o.blockRows).map((b) => ({
    start: b.start,
    tensor: ctx.upload(table.subarray(b.start * o.dim, (b.start + b.rows) * o.dim), [b.rows, o.dim], dtype, `table ${b.start}`),
  }));
  if (o.extra > 0) blocks.push({ start: o.vocab, tensor: ctx.upload(table.subarray(o.vocab * o.dim), [o.extra, o.dim], dtype, 'extra rows') });
  const posT = pos ? ctx.upload(pos, [o.seq + 2, o.dim], dtype, 'positions') : undefined;
  const got = await checked(ctx, `embedding ${dtype} ${JSON.stringify(o)}`, async () => {
    const out = await embedding(ctx, ids, blocks, posT ? { positions: posT, seq: o.seq } : {});
    const shape = [...out.shape];
    const data = await ctx.read(out);
    ctx.release(out);
    return { shape, data };
  });
  ctx.release(...blocks.map((b) => b.tensor), ...(posT ? [posT] : []));
  return { got, expected: embeddingReference(ids, table, o.dim, pos, o.seq), ids };
}

const CASES = [
  { vocab: 37, extra: 3, dim: 13, blockRows: 10, batch: 3, seq: 7, positions: true, seed: 1 }, // 4 blocks + extra rows
  { vocab: 50, extra: 0, dim: 5, blockRows: 64, batch: 2, seq: 9, positions: true, seed: 2 }, // one block
  { vocab: 11, extra: 2, dim: 7, blockRows: 3, batch: 1, seq: 29, positions: false, seed: 3 }, // plain gather
];

describe(`embedding on ${TEST_ADAPTER}`, () => {
  it('gathers token rows from row blocks (+ extra rows) and adds positions, f32, odd shapes', async () => {
    const ctx = await testContext();
    for (const c of CASES) {
      const { got, expected, ids } = await run(ctx, 'f32', c);
      expect(got.shape).toEqual(c.positions ? [c.batch, c.seq, c.dim] : [c.batch * c.seq, c.dim]);
      if (c.extra > 0) expect(ids.some((id) => id >= c.vocab)).toBe(true); // the extra block is used
      const cmp = compare(got.data, expected);
      expect(cmp.maxAbs, describeComparison(cmp)).toBe(0); // one f32 addition, correctly rounded on both sides
    }
  });

  it('f16 storage where shader-f16 exists; refused by name where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      const { got, expected } = await run(ctx, 'f16', CASES[0]!);
      const cmp = compare(got.data, expected);
      // inputs are f16-exact; the f32 sum is rounded once to f16 (relative 2^-11)
      expect(cmp.maxRel, describeComparison(cmp)).toBeLessThan(1e-3);
    } else {
      expect(ctx.hasF16).toBe(false);
      await expect(run(ctx, 'f16', CASES[0]!)).rejects.toThrow(FeatureMissingError);
    }
  });

  it('refuses ids no block holds and overlapping blocks', async () => {
    const ctx = await testContext();
    expect(() => blockOfIds([0, 5, 12], [{ start: 0, rows: 10 }])).toThrow(/id 12/);
    expect(() => blockOfIds([0], [{ start: 0, rows: 10 }, { start: 9, rows: 2 }])).toThrow(/overlap/);
    expect(Array.from(blockOfIds([12, 0, 10], [{ start: 10, rows: 5 }, { start: 0, rows: 10 }]))).toEqual([0, 1, 0]);
    const t = ctx.upload(new Float32Array(8), [4, 2], 'f32', 'tiny table');
    await expect(embedding(ctx, [4], [{ tensor: t, start: 0 }])).rejects.toThrow(RangeError);
    await expect(embedding(ctx, [1, 2, 3], [{ tensor: t, start: 0 }], { seq: 2 })).rejects.toThrow(/sequences/);
    ctx.release(t);
  });
});
