import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import { attentionBackward, attentionForwardWithStats, planAttentionBackward } from './attention-backward';
import { attentionBackwardReference } from './attention-backward.reference';
import { FeatureMissingError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import type { GpuContext } from '../../gpu/context';
import type { DType, Tensor } from '../../gpu/tensor';

interface Case {
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  d: number;
  causal?: boolean;
  scale?: number;
  /** q and k uniform in [-amp, amp] (default 1): larger logits, peakier softmax. */
  amp?: number;
}

const name = (c: Case) => `B${c.batch} H${c.heads} Tq${c.tq} Tk${c.tk} D${c.d}${c.causal ? ' causal' : ''}${c.amp ? ` amp${c.amp}` : ''}`;

/** Forward with stats and backward on the GPU vs the f64 reference; the worst max|Δ|/max|ref| over all outputs. */
async function run(ctx: GpuContext, c: Case, dtype: DType, seed: number): Promise<number> {
  const C = c.heads * c.d;
  const amp = c.amp ?? 1;
  const round = (x: Float32Array) => (dtype === 'f16' ? roundToF16(x) : x);
  const q = round(randomArray(c.batch * c.tq * C, seed, -amp, amp));
  const k = round(randomArray(c.batch * c.tk * C, seed + 1, -amp, amp));
  const v = round(randomArray(c.batch * c.tk * C, seed + 2));
  const dOut = round(randomArray(c.batch * c.tq * C, seed + 3));
  const tq = ctx.upload(q, [c.batch, c.tq, C], dtype, 'q');
  const tk = ctx.upload(k, [c.batch, c.tk, C], dtype, 'k');
  const tv = ctx.upload(v, [c.batch, c.tk, C], dtype, 'v');
  const tdo = ctx.upload(dOut, [c.batch, c.tq, C], dtype, 'dOut');
  const opts = { heads: c.heads, causal: c.causal ?? false, ...(c.scale ? { scale: c.scale } : {}) };
  const t0 = performance.now();
  const got = await checked(ctx, name(c), async () => {
    const { out, lse } = await attentionForwardWithStats(ctx, tq, tk, tv, opts);
    const g = await attentionBackward(ctx, { q: tq, k: tk, v: tv, out, dOut: tdo, lse }, opts);
    const read = { out: await ctx.read(out), lse: await ctx.read(lse), dq: await ctx.read(g.dq), dk: await ctx.read(g.dk), dv: await ctx.read(g.dv) };
    ctx.release(out, lse, g.dq, g.dk, g.dv);
    return read;
  });
  const ms = performance.now() - t0;
  const scale = c.scale ?? 1 / Math.sqrt(c.d);
  const want = attentionBackwardReference(
    { batch: c.batch, heads: c.heads, tq: c.tq, tk: c.tk, headDim: c.d, scale, causal: c.causal ?? false },
    q,
    k,
    v,
    dOut,
  );
  let worst = 0;
  const parts: string[] = [];
  for (const key of ['out', 'lse', 'dq', 'dk', 'dv'] as const) {
    const cmp = compare(got[key], want[key]);
    // An exactly zero gradient (Tk = 1: P = 1, so dS = dP − D = 0) has no scale: its error is absolute.
    const err = cmp.scale > 0 ? cmp.maxRel : cmp.maxAbs;
    worst = Math.max(worst, err);
    parts.push(`${key} ${err.toExponential(2)}${cmp.scale > 0 ? '' : ' (abs)'}`);
    if (!(cmp.maxRel <= 1e-3)) console.log(`  ${key}: ${describeComparison(cmp)}`);
  }
  console.log(`[attention-backward ${dtype}] ${name(c)}: ${parts.join(', ')} (${ms.toFixed(0)} ms)`);
  ctx.release(tq, tk, tv, tdo);
  return worst;
}

/**
 * f32: the kernels accumulate in f32 over up to Tk·D products; dS = P∘(dP − D) cancels where dP ≈ D,
 * so the bound is a little looser than the forward's 1e-5.
 */
const F32_TOL = 2e-5;
/** f16 storage: out (used for D) and the gradients are rounded to f16 (2^-11 relative each). */
const F16_TOL = 5e-3;
/**
 * Each new (head-dim blocks, causal, dtype) compiles four pipelines, which takes lavapipe (without its
 * shader cache) 5-45 s of CPU per variant: three 64-float register row-vectors per invocation. So the
 * cases share few variants (D 16/24/40/64 whole, 80/128 in chunks; causal with D 16 and 128), lavapipe,
 * the f16 tier, runs the f32 cases of D 16, 64 (SDXL's) and 80 (chunks) only (SwiftShader runs all), and
 * the tests get 10 minutes.
 */
const LONG = 600_000;
const LAVAPIPE_F32_DIMS = new Set([16, 64, 80]);
const here = (cases: Case[]) => cases.filter((c) => TEST_ADAPTER !== 'lavapipe' || LAVAPIPE_F32_DIMS.has(c.d));

describe(`attention backward on ${TEST_ADAPTER}`, () => {
  it('tiles each head dim within 16 KiB of workgroup memory', () => {
    expect(planAttentionBackward(64, 'dq')).toEqual({ nb: 4, bk: 32, chunks: 1 });
    expect(planAttentionBackward(16, 'dk')).toEqual({ nb: 1, bk: 32, chunks: 1 });
    expect(planAttentionBackward(80, 'dq')).toEqual({ nb: 3, bk: 16, chunks: 2 });
    expect(planAttentionBackward(128, 'dk').chunks).toBe(2);
    expect(planAttentionBackward(320, 'dv').chunks).toBe(5);
  });

  it('self-attention (Tq = Tk): matches the f64 reference on odd sizes, D 16/24/64/80', async () => {
    const ctx = await testContext();
    const cases: Case[] = [
      { batch: 1, heads: 3, tq: 37, tk: 37, d: 16 },
      { batch: 2, heads: 3, tq: 37, tk: 37, d: 24 },
      { batch: 1, heads: 2, tq: 77, tk: 77, d: 64 },
      { batch: 1, heads: 3, tq: 37, tk: 37, d: 80 },
    ];
    for (const [i, c] of here(cases).entries()) expect(await run(ctx, c, 'f32', 100 + 10 * i), name(c)).toBeLessThanOrEqual(F32_TOL);
  }, LONG);

  it('cross-attention (Tq != Tk): Tq 45 with Tk 13 / 77, Tk = 1, batch 2', async () => {
    const ctx = await testContext();
    const cases: Case[] = [
      { batch: 2, heads: 2, tq: 45, tk: 13, d: 16 },
      { batch: 1, heads: 2, tq: 45, tk: 77, d: 40 },
      { batch: 2, heads: 1, tq: 5, tk: 1, d: 16 },
    ];
    for (const [i, c] of here(cases).entries()) expect(await run(ctx, c, 'f32', 200 + 10 * i), name(c)).toBeLessThanOrEqual(F32_TOL);
  }, LONG);

  it('causal (top-left aligned): Tq = Tk across several row blocks, Tq > Tk and Tq < Tk', async () => {
    const ctx = await testContext();
    const cases: Case[] = [
      { batch: 2, heads: 3, tq: 37, tk: 37, d: 16, causal: true },
      { batch: 1, heads: 2, tq: 150, tk: 150, d: 16, causal: true },
      { batch: 1, heads: 2, tq: 45, tk: 13, d: 16, causal: true },
      { batch: 2, heads: 1, tq: 20, tk: 45, d: 16, causal: true },
    ];
    for (const [i, c] of here(cases).entries()) expect(await run(ctx, c, 'f32', 300 + 10 * i), name(c)).toBeLessThanOrEqual(F32_TOL);
  }, LONG);

  it('long keys (several tiles and row blocks), head dims past 64 (column chunks) and large logits', async () => {
    const ctx = await testContext();
    const cases: Case[] = [
      { batch: 1, heads: 1, tq: 300, tk: 300, d: 64 },
      { batch: 1, heads: 2, tq: 45, tk: 300, d: 24 },
      { batch: 1, heads: 1, tq: 70, tk: 70, d: 128, causal: true },
      { batch: 2, heads: 1, tq: 33, tk: 45, d: 80 },
      // Logits up to ~±100: without the saved max (lse) exp would overflow; P is nearly one-hot.
      { batch: 1, heads: 2, tq: 41, tk: 50, d: 16, scale: 4, amp: 2.5 },
    ];
    for (const [i, c] of here(cases).entries()) {
      // Large logits: f32 rounds a logit of ~100 by ~100·2^-24 before any accumulation (attention.gpu.test).
      const tol = c.amp ? 1e-4 : F32_TOL;
      expect(await run(ctx, c, 'f32', 400 + 10 * i), name(c)).toBeLessThanOrEqual(tol);
    }
  }, LONG);

  it('rejects operands of the wrong shape or dtype', async () => {
    const ctx = await testContext();
    const a = ctx.upload(new Float32Array(2 * 5 * 8), [2, 5, 8], 'f32', 'a');
    const b = ctx.upload(new Float32Array(2 * 6 * 6), [2, 6, 6], 'f32', 'b');
    await expect(attentionForwardWithStats(ctx, a, a, a, { heads: 3 })).rejects.toThrow(RangeError);
    await expect(attentionForwardWithStats(ctx, a, b, b, { heads: 2 })).rejects.toThrow(/k is/);
    const lse = ctx.upload(new Float32Array(2 * 2 * 4), [2, 2, 4], 'f32', 'lse');
    await expect(attentionBackward(ctx, { q: a, k: a, v: a, out: a, dOut: a, lse }, { heads: 2 })).rejects.toThrow(/lse must be/);
    ctx.release(a, b, lse);
  });

  it('runs f16 storage where shader-f16 exists, and refuses it by name where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      const cases: Case[] = [
        { batch: 2, heads: 2, tq: 77, tk: 77, d: 64 },
        { batch: 1, heads: 3, tq: 45, tk: 13, d: 16 },
        { batch: 2, heads: 1, tq: 37, tk: 37, d: 16, causal: true },
        { batch: 1, heads: 2, tq: 33, tk: 45, d: 80 },
      ];
      for (const [i, c] of cases.entries()) expect(await run(ctx, c, 'f16', 900 + 10 * i), name(c)).toBeLessThanOrEqual(F16_TOL);
    } else {
      expect(ctx.hasF16).toBe(false);
      const t32 = ctx.upload(new Float32Array(12), [1, 3, 4], 'f32', 'q32');
      // A tensor that claims f16 (as a caller on another device might pass) is refused by the op itself.
      const fake: Tensor = { ...t32, dtype: 'f16' };
      await expect(attentionForwardWithStats(ctx, fake, fake, fake, { heads: 1 })).rejects.toThrow(FeatureMissingError);
      ctx.release(t32);
    }
  }, LONG);
});
