import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray, rng } from '../../tests/numeric';
import { regionalAttention, planRegionalAttention, type RegionalAttentionProblem } from './regional-attention';
import { regionalAttentionReference } from './regional-attention.reference';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { GpuContext } from '../gpu/context';
import type { DType, Tensor } from '../gpu/tensor';

interface Case {
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  d: number;
  regions: number;
  /** One mask set for the batch (1) or one per batch element. */
  maskBatch: 1 | 'B';
  /** Per batch element, which regions are active (default: all). */
  active?: number[][];
  /** One q per prompt, [B, 1 + U, Tq, C] (concept-aware regions), instead of one shared q. */
  perPromptQ?: boolean;
}

const name = (c: Case) => `B${c.batch} H${c.heads} Tq${c.tq} Tk${c.tk} D${c.d} U${c.regions}${c.maskBatch === 'B' ? ' per-batch masks' : ''}${c.perPromptQ ? ' per-prompt q' : ''}`;
const qPrompts = (c: Case) => (c.perPromptQ ? 1 + c.regions : 1);

/**
 * Masks with every situation a row can be in: region 0 a soft ramp over the first 2/3 of the rows,
 * region 1 binary on the last half (overlapping region 0: total up to 2), region 2 (if any) empty, the
 * rest random soft values; the first rows are outside every region.
 */
function makeMasks(c: Case, seed: number): Float32Array {
  const mb = c.maskBatch === 1 ? 1 : c.batch;
  const m = new Float32Array(mb * c.regions * c.tq);
  const r = rng(seed);
  for (let b = 0; b < mb; b++) {
    for (let u = 0; u < c.regions; u++) {
      for (let t = 0; t < c.tq; t++) {
        const outside = t < 3;
        const v = u === 0 ? (t < (2 * c.tq) / 3 ? t / c.tq : 0) : u === 1 ? (t >= c.tq / 2 ? 1 : 0) : u === 2 ? 0 : r();
        m[(b * c.regions + u) * c.tq + t] = outside ? 0 : b === 1 && u === 0 ? 1 - v : v;
      }
    }
  }
  return m;
}

interface Data {
  q: Float32Array;
  /** [B, 1 + U, Tk, C]: prompt 0 global, then the regions. */
  k: Float32Array;
  v: Float32Array;
  masks: Float32Array;
  active: Float32Array;
}

function makeData(c: Case, dtype: DType, seed: number): Data {
  const C = c.heads * c.d;
  const round = (x: Float32Array) => (dtype === 'f16' ? roundToF16(x) : x);
  const active = new Float32Array(c.batch * c.regions).fill(1);
  c.active?.forEach((set, b) => {
    for (let u = 0; u < c.regions; u++) active[b * c.regions + u] = set.includes(u) ? 1 : 0;
  });
  return {
    q: round(randomArray(c.batch * qPrompts(c) * c.tq * C, seed, -2, 2)),
    k: round(randomArray(c.batch * (1 + c.regions) * c.tk * C, seed + 1, -2, 2)),
    v: round(randomArray(c.batch * (1 + c.regions) * c.tk * C, seed + 2)),
    masks: makeMasks(c, seed + 5),
    active,
  };
}

function problem(c: Case): RegionalAttentionProblem {
  return { batch: c.batch, heads: c.heads, tq: c.tq, tk: c.tk, headDim: c.d, regions: c.regions, maskBatch: c.maskBatch === 1 ? 1 : c.batch, scale: 1 / Math.sqrt(c.d), perPromptQ: c.perPromptQ ?? false };
}

async function runGpu(ctx: GpuContext, c: Case, dtype: DType, d: Data): Promise<Float32Array> {
  const C = c.heads * c.d;
  const up = (x: Float32Array, shape: number[], dt: DType = dtype): Tensor => ctx.upload(x, shape, dt, 'regional-test');
  const t = {
    q: up(d.q, c.perPromptQ ? [c.batch, 1 + c.regions, c.tq, C] : [c.batch, c.tq, C]),
    k: up(d.k, [c.batch, 1 + c.regions, c.tk, C]),
    v: up(d.v, [c.batch, 1 + c.regions, c.tk, C]),
    masks: up(d.masks, [c.maskBatch === 1 ? 1 : c.batch, c.regions, c.tq], 'f32'),
    active: up(d.active, [c.batch, c.regions], 'f32'),
  };
  const out = await checked(ctx, name(c), async () => ctx.read(await regionalAttention(ctx, t, { heads: c.heads })));
  ctx.release(...Object.values(t));
  return out;
}

async function check(ctx: GpuContext, c: Case, dtype: DType, tol: number, seed = 7): Promise<void> {
  const d = makeData(c, dtype, seed);
  const t0 = performance.now();
  const got = await runGpu(ctx, c, dtype, d);
  const cmp = compare(got, regionalAttentionReference(problem(c), d));
  console.log(`[regional-attention ${dtype}] ${name(c)}: ${describeComparison(cmp)} (${(performance.now() - t0).toFixed(0)} ms)`);
  expect(cmp.maxRel, name(c)).toBeLessThan(tol);
}

const CASES: Case[] = [
  // overlaps, an empty region, per-batch activity (b1 uses region 1 only, b2 none: plain attention)
  { batch: 3, heads: 2, tq: 37, tk: 77, d: 16, regions: 3, maskBatch: 1, active: [[0, 1, 2], [1], []] },
  // odd head dim and key count, masks per batch element
  { batch: 2, heads: 3, tq: 19, tk: 5, d: 5, regions: 2, maskBatch: 'B' },
  // SD-1.5's head dim 40, one region
  { batch: 2, heads: 1, tq: 70, tk: 77, d: 40, regions: 1, maskBatch: 1 },
  // head dim 160 (SD-1.5's deepest level): fewer rows per workgroup
  { batch: 1, heads: 1, tq: 23, tk: 77, d: 160, regions: 4, maskBatch: 1 },
  // one q per prompt (concept-aware regions), with overlaps, per-batch activity and odd sizes
  { batch: 3, heads: 2, tq: 37, tk: 77, d: 16, regions: 3, maskBatch: 1, active: [[0, 1, 2], [1], []], perPromptQ: true },
  { batch: 2, heads: 3, tq: 19, tk: 5, d: 5, regions: 2, maskBatch: 'B', perPromptQ: true },
];

describe(`regional attention on ${TEST_ADAPTER}`, () => {
  it('plans tiles within 16 KiB of workgroup memory', () => {
    expect(planRegionalAttention(64, 77)).toEqual({ rows: 16, dmax: 64, tkmax: 80 });
    expect(planRegionalAttention(160, 77).rows).toBe(8);
  });

  it('matches the f64 reference in f32 on odd shapes, overlaps, empty regions and per-batch activity', async () => {
    const ctx = await testContext();
    for (const c of CASES) await check(ctx, c, 'f32', 1e-5);
  });

  it('rows outside a region do not depend on its prompt at all (exactly equal)', async () => {
    const ctx = await testContext();
    const c: Case = { batch: 2, heads: 2, tq: 41, tk: 77, d: 16, regions: 2, maskBatch: 1 };
    const a = makeData(c, 'f32', 11);
    const b = { ...a, k: a.k.slice(), v: a.v.slice() };
    // change region 1's K/V (prompt 2; binary on rows >= tq/2) in every batch element
    const C = c.heads * c.d;
    for (let bi = 0; bi < c.batch; bi++) {
      const off = (bi * (1 + c.regions) + 2) * c.tk * C;
      b.k.set(randomArray(c.tk * C, 99 + bi, -2, 2), off);
      b.v.set(randomArray(c.tk * C, 199 + bi), off);
    }
    const [ga, gb] = [await runGpu(ctx, c, 'f32', a), await runGpu(ctx, c, 'f32', b)];
    let inside = 0;
    for (let bi = 0; bi < c.batch; bi++) {
      for (let t = 0; t < c.tq; t++) {
        const row = (i: Float32Array) => Array.from(i.subarray((bi * c.tq + t) * C, (bi * c.tq + t + 1) * C));
        if (a.masks[c.tq + t] === 0) expect(row(gb), `row ${t}`).toEqual(row(ga));
        else if (row(gb).some((x, i) => x !== row(ga)[i])) inside++;
      }
    }
    expect(inside).toBe(c.batch * (c.tq - Math.ceil(c.tq / 2)));
  });

  it("with one q per prompt, rows outside a region do not depend on that region's q (exactly equal)", async () => {
    const ctx = await testContext();
    const c: Case = { batch: 2, heads: 2, tq: 41, tk: 77, d: 16, regions: 2, maskBatch: 1, perPromptQ: true };
    const a = makeData(c, 'f32', 13);
    const b = { ...a, q: a.q.slice() };
    const C = c.heads * c.d;
    // change region 1's queries (prompt 2; binary on rows >= tq/2) in every batch element
    for (let bi = 0; bi < c.batch; bi++) b.q.set(randomArray(c.tq * C, 299 + bi, -2, 2), (bi * (1 + c.regions) + 2) * c.tq * C);
    const [ga, gb] = [await runGpu(ctx, c, 'f32', a), await runGpu(ctx, c, 'f32', b)];
    let inside = 0;
    for (let bi = 0; bi < c.batch; bi++) {
      for (let t = 0; t < c.tq; t++) {
        const row = (i: Float32Array) => Array.from(i.subarray((bi * c.tq + t) * C, (bi * c.tq + t + 1) * C));
        if (a.masks[c.tq + t] === 0) expect(row(gb), `row ${t}`).toEqual(row(ga));
        else if (row(gb).some((x, i) => x !== row(ga)[i])) inside++;
      }
    }
    expect(inside).toBe(c.batch * (c.tq - Math.ceil(c.tq / 2)));
  });

  it('rejects inconsistent shapes with a RangeError naming the operand', async () => {
    const ctx = await testContext();
    const e = (shape: number[]) => ctx.empty(shape, 'f32', 'bad');
    const ok = { q: e([1, 4, 8]), k: e([1, 3, 77, 8]), v: e([1, 3, 77, 8]), masks: e([1, 2, 4]), active: e([1, 2]) };
    await expect(regionalAttention(ctx, { ...ok, masks: e([1, 2, 5]) }, { heads: 2 })).rejects.toThrow(/masks/);
    await expect(regionalAttention(ctx, { ...ok, k: e([1, 3, 76, 8]) }, { heads: 2 })).rejects.toThrow(/k\/v/);
    await expect(regionalAttention(ctx, { ...ok, active: e([1, 3]) }, { heads: 2 })).rejects.toThrow(/active/);
    await expect(regionalAttention(ctx, ok, { heads: 3 })).rejects.toThrow(RangeError);
    await expect(regionalAttention(ctx, { ...ok, q: e([1, 2, 4, 8]) }, { heads: 2 })).rejects.toThrow(/per-prompt q/);
    ctx.release(...Object.values(ok));
  });

  it('runs f16 storage where shader-f16 exists, and names the missing feature where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      // f16 storage of q/k/v and of the output: the output rounding alone is 2^-11 ≈ 4.9e-4 relative
      for (const c of [...CASES.slice(0, 2), ...CASES.filter((x) => x.perPromptQ)]) await check(ctx, c, 'f16', 2e-3);
    } else {
      expect(ctx.hasF16).toBe(false);
      const c = CASES[0]!;
      const f = (shape: number[]) => ({ shape, dtype: 'f16' as const, buffer: null as unknown as GPUBuffer, offset: 0 });
      const C = c.heads * c.d;
      const inputs = {
        q: f([1, 4, C]),
        k: f([1, 2, 77, C]),
        v: f([1, 2, 77, C]),
        masks: { ...f([1, 1, 4]), dtype: 'f32' as const },
        active: { ...f([1, 1]), dtype: 'f32' as const },
      };
      await expect(regionalAttention(ctx, inputs, { heads: c.heads })).rejects.toThrow(FeatureMissingError);
    }
  });
});
