import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import { numel, type DType, type Tensor } from '../../gpu/tensor';
import { groupNormBackward, layerNormBackward, type NormGrads } from './norm-backward';
import { groupNormBackwardReference, layerNormBackwardReference, type NormGradsReference } from './norm-backward.reference';

const DTYPES: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
/** max |Δ| / max |ref| per output. f16: inputs are rounded to f16 for the reference too; dx is stored in f16. */
const TOL: Record<DType, number> = { f32: 2e-5, f16: 3e-3 };

interface GnCase {
  name: string;
  shape: number[];
  groups: number;
  silu: boolean;
  eps?: number;
  /** Added to every x: a large common mean breaks naive sum / sum-of-squares statistics. */
  offset?: number;
  params?: boolean;
}

const GN_CASES: GnCase[] = [
  { name: 'G=4', shape: [2, 12, 5, 7], groups: 4, silu: false, params: true },
  { name: 'G=4 + SiLU', shape: [2, 12, 5, 7], groups: 4, silu: true, params: true },
  // 4·33·65 = 8580 elements per group: three 4096-element chunks, the last one partial
  { name: 'G=2, 3 chunks per group + SiLU', shape: [1, 8, 33, 65], groups: 2, silu: true, eps: 1e-6, params: true },
  // 2·47·59 = 5546 elements per group (two chunks) around a mean of 100
  { name: 'G=3, 2 chunks, mean 100 (stability)', shape: [2, 6, 47, 59], groups: 3, silu: false, offset: 100, params: true },
  { name: 'G=3, mean 100 + SiLU', shape: [2, 6, 47, 59], groups: 3, silu: true, offset: 100 },
  // 90300 elements in one group: 23 chunks; 3-D x (no width)
  { name: 'G=1, 23 chunks, [N, C, L]', shape: [1, 3, 30100], groups: 1, silu: false, params: true },
];

interface LnCase {
  name: string;
  shape: number[];
  offset?: number;
  params?: boolean;
}

const LN_CASES: LnCase[] = [
  { name: 'rows of 65', shape: [3, 77, 65], params: true },
  { name: 'rows of 1000 (longer than the workgroup)', shape: [5, 1000], params: true },
  { name: 'rows of 640, mean 100 (stability)', shape: [2, 3, 640], offset: 100, params: true },
  { name: 'rows of 7', shape: [11, 7] },
];

const round = (dtype: DType, a: Float32Array) => (dtype === 'f16' ? roundToF16(a) : a);

async function readGrads(ctx: GpuContext, g: NormGrads) {
  const out = { dx: await ctx.read(g.dx), dgamma: g.dgamma && (await ctx.read(g.dgamma)), dbeta: g.dbeta && (await ctx.read(g.dbeta)) };
  ctx.release(g.dx, ...(g.dgamma ? [g.dgamma] : []), ...(g.dbeta ? [g.dbeta] : []));
  return out;
}

function check(what: string, dtype: DType, got: Awaited<ReturnType<typeof readGrads>>, ref: NormGradsReference, params: boolean) {
  const parts: [string, Float32Array | undefined, Float32Array][] = [['dx', got.dx, ref.dx]];
  if (params) parts.push(['dgamma', got.dgamma, ref.dgamma], ['dbeta', got.dbeta, ref.dbeta]);
  else {
    expect(got.dgamma, `${what}: dgamma only when asked`).toBeUndefined();
    expect(got.dbeta, `${what}: dbeta only when asked`).toBeUndefined();
  }
  for (const [name, a, e] of parts) {
    expect(a, `${what}: ${name}`).toBeDefined();
    const r = compare(a!, e);
    console.log(`${what} ${name}: ${describeComparison(r)}`);
    expect(r.maxRel, `${what} ${name}`).toBeLessThanOrEqual(TOL[dtype]);
  }
}

async function runGroupNorm(ctx: GpuContext, c: GnCase, dtype: DType, seed: number) {
  const ch = c.shape[1]!;
  const n = numel(c.shape);
  const x = round(dtype, randomArray(n, seed).map((v) => v * 2 + (c.offset ?? 0)));
  const dY = round(dtype, randomArray(n, seed + 1, -2, 2));
  const gamma = round(dtype, randomArray(ch, seed + 2, 0.5, 1.5));
  const beta = round(dtype, randomArray(ch, seed + 3, -0.5, 0.5));
  const cfg = { groups: c.groups, eps: c.eps, silu: c.silu };
  const ref = groupNormBackwardReference(x, c.shape, dY, gamma, beta, cfg);
  const t: Tensor[] = [ctx.upload(x, c.shape, dtype, 'x'), ctx.upload(dY, c.shape, dtype, 'dY'), ctx.upload(gamma, [ch], dtype, 'gamma'), ctx.upload(beta, [ch], dtype, 'beta')];
  const what = `groupnorm-bw ${dtype} ${c.name} [${c.shape.join(',')}]`;
  const got = await checked(ctx, what, async () => readGrads(ctx, await groupNormBackward(ctx, t[0]!, t[1]!, t[2]!, t[3]!, cfg, { paramGrads: c.params ?? false })));
  ctx.release(...t);
  check(what, dtype, got, ref, c.params ?? false);
}

async function runLayerNorm(ctx: GpuContext, c: LnCase, dtype: DType, seed: number) {
  const d = c.shape[c.shape.length - 1]!;
  const n = numel(c.shape);
  const x = round(dtype, randomArray(n, seed).map((v) => v * 2 + (c.offset ?? 0)));
  const dY = round(dtype, randomArray(n, seed + 1, -2, 2));
  const gamma = round(dtype, randomArray(d, seed + 2, 0.5, 1.5));
  const ref = layerNormBackwardReference(x, c.shape, dY, gamma, 1e-5);
  const t: Tensor[] = [ctx.upload(x, c.shape, dtype, 'x'), ctx.upload(dY, c.shape, dtype, 'dY'), ctx.upload(gamma, [d], dtype, 'gamma')];
  const what = `layernorm-bw ${dtype} ${c.name} [${c.shape.join(',')}]`;
  const got = await checked(ctx, what, async () => readGrads(ctx, await layerNormBackward(ctx, t[0]!, t[1]!, t[2]!, { eps: 1e-5 }, { paramGrads: c.params ?? false })));
  ctx.release(...t);
  check(what, dtype, got, ref, c.params ?? false);
}

describe(`groupNormBackward and layerNormBackward on ${TEST_ADAPTER}`, () => {
  it('tests f16 exactly where the adapter has shader-f16', async () => {
    const ctx = await testContext();
    expect(ctx.hasF16).toBe(TEST_ADAPTER === 'lavapipe');
  });

  for (const dtype of DTYPES) {
    it(`groupNormBackward matches the reference in ${dtype} (odd shapes, SiLU, multi-chunk groups, offset data)`, async () => {
      const ctx = await testContext();
      let seed = 10;
      // f16 cannot hold 100 + x finely enough for a meaningful stability case: those run in f32 only
      for (const c of GN_CASES.filter((k) => dtype === 'f32' || !k.offset)) await runGroupNorm(ctx, c, dtype, (seed += 10));
    });

    it(`layerNormBackward matches the reference in ${dtype} (rows of 77×65, 1000, 7, offset data)`, async () => {
      const ctx = await testContext();
      let seed = 500;
      for (const c of LN_CASES.filter((k) => dtype === 'f32' || !k.offset)) await runLayerNorm(ctx, c, dtype, (seed += 10));
    });
  }

  it('groupNormBackward spreads an SDXL-sized group (10 ch × 128², 40 chunks) over many workgroups', async () => {
    const ctx = await testContext();
    await runGroupNorm(ctx, { name: 'SDXL 320×128², G=32 + SiLU', shape: [1, 320, 128, 128], groups: 32, silu: true }, 'f32', 900);
    // more chunks (67) than the apply and merge stages have threads (64)
    await runGroupNorm(ctx, { name: '67 chunks, G=1', shape: [1, 3, 300, 301], groups: 1, silu: false, params: true }, 'f32', 910);
  });

  it('rejects mismatched operands, and f16 without shader-f16', async () => {
    const ctx = await testContext();
    const x = ctx.upload(new Float32Array(2 * 4 * 3), [2, 4, 3], 'f32', 'x');
    const dY = ctx.upload(new Float32Array(2 * 4 * 3), [2, 4, 3], 'f32', 'dY');
    const g4 = ctx.upload(new Float32Array(4), [4], 'f32', 'g4');
    const g3 = ctx.upload(new Float32Array(3), [3], 'f32', 'g3');
    await expect(groupNormBackward(ctx, x, dY, g4, g4, { groups: 3 })).rejects.toThrow(/cannot be split into 3 groups/);
    await expect(groupNormBackward(ctx, x, { ...dY, shape: [2, 12] }, g4, g4, { groups: 2 })).rejects.toThrow(/dY/);
    await expect(layerNormBackward(ctx, x, dY, g4)).rejects.toThrow(/gamma/);
    if (!ctx.hasF16) {
      const fake = (t: Tensor): Tensor => ({ ...t, dtype: 'f16' });
      await expect(groupNormBackward(ctx, fake(x), fake(dY), fake(g4), fake(g4), { groups: 2 })).rejects.toThrow(FeatureMissingError);
      await expect(layerNormBackward(ctx, fake(x), fake(dY), fake(g3))).rejects.toThrow(FeatureMissingError);
    }
    ctx.release(x, dY, g4, g3);
  });
});
