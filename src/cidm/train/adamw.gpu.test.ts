import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import type { GpuContext } from '../../gpu/context';
import { ADAMW_DEFAULTS, AdamW, adamwScalars, adamwStep, type ParamGroup } from './adamw';
import { adamwReference, type AdamWState } from './adamw.reference';
import { FlatLayout, FlatParams, type FlatSlot } from './flat-params';
import { linearDecayLr } from './lr-schedule';

const SPECS = [
  { name: 'up', shape: [37, 3] },
  { name: 'bias', shape: [5] },
  { name: 'down', shape: [3, 129] },
  { name: 'tokens', shape: [2, 7, 33] },
];
const TOL = 1e-6;

interface Host {
  state: Map<string, AdamWState>;
  grads: Map<string, Float32Array>;
}

function makeHost(seed: number, fresh: boolean): Host {
  const state = new Map<string, AdamWState>();
  const grads = new Map<string, Float32Array>();
  for (const [j, s] of SPECS.entries()) {
    const n = s.shape.reduce((a, d) => a * d, 1);
    const g = randomArray(n, seed + 10 * j, -0.05, 0.05);
    // entries near eps, exact zeros and a large one: the regimes where denom matters
    g[0] = 3e-9;
    g[1] = 0;
    g[2] = 2.5;
    state.set(s.name, {
      param: randomArray(n, seed + 10 * j + 1),
      expAvg: fresh ? new Float32Array(n) : randomArray(n, seed + 10 * j + 2, -0.01, 0.01),
      expAvgSq: fresh ? new Float32Array(n) : randomArray(n, seed + 10 * j + 3, 0, 1e-4),
    });
    grads.set(s.name, g);
  }
  return { state, grads };
}

function upload(ctx: GpuContext, fp: FlatParams, h: Host): void {
  for (const s of SPECS) {
    const st = h.state.get(s.name)!;
    fp.write(ctx, 'param', s.name, st.param);
    fp.write(ctx, 'expAvg', s.name, st.expAvg);
    fp.write(ctx, 'expAvgSq', s.name, st.expAvgSq);
    fp.write(ctx, 'grad', s.name, h.grads.get(s.name)!);
  }
}

const SLOT_KEYS: [FlatSlot, keyof AdamWState][] = [['param', 'param'], ['expAvg', 'expAvg'], ['expAvgSq', 'expAvgSq']];

/** Worst relative error over the group, per slot (max |Δ| / max |ref| over all its tensors). */
async function compareGroup(ctx: GpuContext, fp: FlatParams, want: Map<string, AdamWState>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [slot, key] of SLOT_KEYS) {
    const got: number[] = [];
    const ref: number[] = [];
    for (const s of SPECS) {
      got.push(...(await fp.read(ctx, slot, s.name)));
      ref.push(...want.get(s.name)![key]);
    }
    const c = compare(got, ref);
    out[slot] = c.maxRel;
    console.log(`adamw ${slot}: ${describeComparison(c)}`);
  }
  return out;
}

describe(`AdamW on ${TEST_ADAPTER}`, () => {
  it('matches the f32 torch-order reference over three scheduled steps from a non-zero state', async () => {
    const ctx = await testContext();
    const fp = FlatParams.create(ctx, 'test group', new FlatLayout(SPECS));
    const h = makeHost(100, false);
    upload(ctx, fp, h);
    const group: ParamGroup = { name: 'g', params: fp, lr: 1e-3, weightDecay: 0.01 };
    const opt = new AdamW([group]);
    let want = h.state;
    for (let step = 1; step <= 3; step++) {
      const lr = linearDecayLr(group.lr, step - 1, 5);
      await checked(ctx, `adamw step ${step}`, () => opt.step(ctx, () => lr));
      const s = adamwScalars(ADAMW_DEFAULTS, lr, 0.01, step);
      want = new Map([...want].map(([n, st]) => [n, adamwReference(st, h.grads.get(n)!, s)]));
      const errs = await compareGroup(ctx, fp, want);
      for (const [slot, e] of Object.entries(errs)) expect(e, `step ${step} ${slot}`).toBeLessThanOrEqual(TOL);
    }
    expect(opt.completed.get('g')).toBe(3);
    // padding between tensors stays zero in every slot
    for (const slot of ['param', 'grad', 'expAvg', 'expAvgSq'] as FlatSlot[]) {
      const all = await fp.read(ctx, slot);
      for (const s of SPECS) {
        const e = fp.layout.entry(s.name);
        const next = Math.ceil((e.offset + e.numel) / 64) * 64;
        for (let i = e.offset + e.numel; i < next; i++) expect(all[i], `${slot} padding after ${s.name}`).toBe(0);
      }
    }
    fp.destroy(ctx);
  });

  it('gives the same bits when cut into 64-element bindings, and with a loss scale removed', async () => {
    const ctx = await testContext();
    const h = makeHost(200, true);
    const run = async (o: { chunkElements?: number; gradScale?: number }) => {
      const fp = FlatParams.create(ctx, 'chunk group', new FlatLayout(SPECS));
      upload(ctx, fp, h);
      if (o.gradScale) for (const s of SPECS) fp.write(ctx, 'grad', s.name, h.grads.get(s.name)!.map((g) => g * o.gradScale!));
      await checked(ctx, 'adamw chunked', () => adamwStep(ctx, { name: 'g', params: fp, lr: 1e-4, weightDecay: 0.01 }, ADAMW_DEFAULTS, 1, o));
      const r = [await fp.read(ctx, 'param'), await fp.read(ctx, 'expAvg'), await fp.read(ctx, 'expAvgSq')];
      fp.destroy(ctx);
      return r;
    };
    const whole = await run({});
    expect(await run({ chunkElements: 64 })).toEqual(whole);
    expect(await run({ gradScale: 1024 })).toEqual(whole);
    await expect(run({ chunkElements: 100 })).rejects.toThrow(RangeError);
  });

  it('skips a frozen group and keeps its step count', async () => {
    const ctx = await testContext();
    const a = FlatParams.create(ctx, 'a', new FlatLayout([{ name: 'x', shape: [3] }]));
    const b = FlatParams.create(ctx, 'b', new FlatLayout([{ name: 'y', shape: [3] }]));
    for (const fp of [a, b]) {
      fp.write(ctx, 'param', fp.layout.names[0]!, Float32Array.from([1, 2, 3]));
      fp.write(ctx, 'grad', fp.layout.names[0]!, Float32Array.from([0.1, 0.2, 0.3]));
    }
    const opt = new AdamW([{ name: 'lora', params: a, lr: 1e-4, weightDecay: 0.01 }, { name: 'tokens', params: b, lr: 1e-3, weightDecay: 0.01 }]);
    await opt.step(ctx, undefined, { skip: new Set(['tokens']) });
    expect(opt.completed.get('lora')).toBe(1);
    expect(opt.completed.get('tokens')).toBe(0);
    expect(Array.from(await b.read(ctx, 'param', 'y'))).toEqual([1, 2, 3]);
    expect(Array.from(await a.read(ctx, 'param', 'x'))).not.toEqual([1, 2, 3]);
    a.destroy(ctx);
    b.destroy(ctx);
  });
});
