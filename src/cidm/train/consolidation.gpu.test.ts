import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import type { GpuContext } from '../../gpu/context';
import { ConsolidationLoss, type ConsolidationOptions, type OldTaskUps } from './consolidation';
import { consolidationReference } from './consolidation.reference';
import { BadRankError } from './errors';
import { FlatLayout, FlatParams } from './flat-params';

interface Setup {
  fp: FlatParams;
  ups: string[];
  upData: Map<string, Float32Array>;
  gradBefore: Map<string, Float32Array>;
  old: Map<string, Float32Array>[];
}

/** Modules with odd row counts (one below, one at, two above the 64-row workgroup), downs interleaved. */
function setup(ctx: GpuContext, rows: number[], rank: number, tasks: number, seed: number): Setup {
  const specs = rows.flatMap((r, m) => [
    { name: `m${m}.lora_down.weight`, shape: [rank, 11 + m] },
    { name: `m${m}.lora_up.weight`, shape: [r, rank] },
  ]);
  const fp = FlatParams.create(ctx, 'consolidation test', new FlatLayout(specs));
  const ups = rows.map((_, m) => `m${m}.lora_up.weight`);
  const upData = new Map<string, Float32Array>();
  const gradBefore = new Map<string, Float32Array>();
  for (const [j, s] of specs.entries()) {
    const n = s.shape[0]! * s.shape[1]!;
    const v = randomArray(n, seed + 3 * j, -0.4, 0.6);
    const g = randomArray(n, seed + 3 * j + 1, -1e-3, 1e-3);
    fp.write(ctx, 'param', s.name, v);
    fp.write(ctx, 'grad', s.name, g);
    gradBefore.set(s.name, g);
    if (s.name.includes('lora_up')) upData.set(s.name, v);
  }
  const old = Array.from({ length: tasks }, (_, i) => new Map(ups.map((u, m) => [u, randomArray(rows[m]! * rank, seed + 1000 * (i + 1) + m, -0.3, 0.3)])));
  return { fp, ups, upData, gradBefore, old };
}

async function runCase(ctx: GpuContext, s: Setup, rank: number, o: ConsolidationOptions) {
  const loss = ConsolidationLoss.create(ctx, s.fp, s.ups, s.old, o);
  const values = await checked(ctx, 'consolidation', () => loss.apply(ctx));
  const ref = consolidationReference(
    s.ups.map((u) => ({ data: s.upData.get(u)!, rows: s.upData.get(u)!.length / rank, rank })),
    s.old.map((t) => s.ups.map((u) => t.get(u)!)),
    o.gamma ?? 0.1,
    o.r1Form ?? 'code',
  );
  // the kernel ADDS into the gradients: compare (after − before) with the reference gradient
  const got: number[] = [];
  const want: number[] = [];
  for (const [m, u] of s.ups.entries()) {
    const after = await s.fp.read(ctx, 'grad', u);
    const before = s.gradBefore.get(u)!;
    after.forEach((a, i) => got.push(a - before[i]!));
    want.push(...(ref.grads[m] ?? []));
  }
  // the downs' gradients are untouched
  for (const name of s.fp.layout.names.filter((n) => n.includes('lora_down'))) {
    expect(await s.fp.read(ctx, 'grad', name)).toEqual(s.gradBefore.get(name));
  }
  loss.destroy(ctx);
  return { values, ref, grad: compare(got, want) };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe(`consolidation loss on ${TEST_ADAPTER}`, () => {
  it('matches the f64 reference (code form): 4 modules of 37/64/130/5 rows, rank 3, 3 earlier tasks', async () => {
    const ctx = await testContext();
    const s = setup(ctx, [37, 64, 130, 5], 3, 3, 10);
    const { values, ref, grad } = await runCase(ctx, s, 3, {});
    console.log(`consolidation code: grad ${describeComparison(grad)}; R1_code ${values.r1Code} vs ${ref.r1Code}; R1_paper ${values.r1Paper} vs ${ref.r1Paper}; enhan ${values.enhan} vs ${ref.enhan}`);
    expect(values.active).toBe(true);
    expect(rel(values.r1Code, ref.r1Code)).toBeLessThanOrEqual(1e-5);
    expect(rel(values.r1Paper, ref.r1Paper)).toBeLessThanOrEqual(1e-5);
    expect(rel(values.enhan, ref.enhan)).toBeLessThanOrEqual(1e-5);
    expect(rel(values.total, 0.1 * ref.r1Code + 0.1 * ref.enhan)).toBeLessThanOrEqual(1e-5);
    expect(grad.maxRel).toBeLessThanOrEqual(1e-5);
    s.fp.destroy(ctx);
  });

  it('matches the reference in the paper (sum) form with another γ and rank 4, one earlier task', async () => {
    const ctx = await testContext();
    const s = setup(ctx, [9, 71], 4, 1, 20);
    const { values, ref, grad } = await runCase(ctx, s, 4, { r1Form: 'paper', gamma: 0.5 });
    console.log(`consolidation paper: grad ${describeComparison(grad)}; R1_paper ${values.r1Paper} vs ${ref.r1Paper}`);
    expect(rel(values.r1Paper, ref.r1Paper)).toBeLessThanOrEqual(1e-5);
    expect(rel(values.total, 0.5 * ref.r1Paper + 0.5 * ref.enhan)).toBeLessThanOrEqual(1e-5);
    expect(grad.maxRel).toBeLessThanOrEqual(1e-5);
    s.fp.destroy(ctx);
  });

  it('is deterministic: the same values twice, bit for bit', async () => {
    const ctx = await testContext();
    const s = setup(ctx, [37, 130], 3, 2, 30);
    const loss = ConsolidationLoss.create(ctx, s.fp, s.ups, s.old);
    const a = await loss.apply(ctx);
    const b = await loss.apply(ctx);
    expect(b).toEqual(a);
    loss.destroy(ctx);
    s.fp.destroy(ctx);
  });

  it('does nothing for the first task (no earlier tasks: task_id == 1)', async () => {
    const ctx = await testContext();
    const s = setup(ctx, [37], 3, 0, 40);
    const loss = ConsolidationLoss.create(ctx, s.fp, s.ups, []);
    expect(loss.active).toBe(false);
    expect(await loss.record(ctx)).toBeNull();
    expect(await loss.apply(ctx)).toEqual({ active: false, r1Code: 0, r1Paper: 0, enhan: 0, total: 0 });
    expect(await s.fp.read(ctx, 'grad', s.ups[0]!)).toEqual(s.gradBefore.get(s.ups[0]!));
    s.fp.destroy(ctx);
  });

  it('refuses mixed ranks, a rank the stored tasks do not have, and a missing stored up', async () => {
    const ctx = await testContext();
    const fp = FlatParams.create(ctx, 'bad', new FlatLayout([{ name: 'a', shape: [5, 3] }, { name: 'b', shape: [5, 4] }]));
    const ok: OldTaskUps = new Map([['a', new Float32Array(15)]]);
    expect(() => ConsolidationLoss.create(ctx, fp, ['a', 'b'], [ok])).toThrow(BadRankError);
    expect(() => ConsolidationLoss.create(ctx, fp, ['a'], [new Map([['a', new Float32Array(20)]])])).toThrow(BadRankError);
    expect(() => ConsolidationLoss.create(ctx, fp, ['a'], [new Map()])).toThrow(/no up matrix "a"/);
    expect(() => ConsolidationLoss.create(ctx, fp, [], [ok])).toThrow(RangeError);
    fp.destroy(ctx);
  });
});
