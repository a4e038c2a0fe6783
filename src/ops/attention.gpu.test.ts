import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import { attention, planAttention, type AttentionProblem } from './attention';
import { attentionReference, denseView } from './attention.reference';
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
  causal?: boolean;
  scale?: number;
  /** Input range of q and k: values uniform in [-amp, amp]. */
  amp?: number;
  /** Tolerance when it must differ from F32_TOL (explained where set). */
  tol?: number;
  /** Kernel: 1 or 4 query rows per invocation (default: the op's choice for the adapter). */
  rows?: 1 | 4;
}

const name = (c: Case) =>
  `B${c.batch} H${c.heads} Tq${c.tq} Tk${c.tk} D${c.d}${c.causal ? ' causal' : ''}${c.rows ? ` rows${c.rows}` : ''}`;
const kernelOpt = (c: Case) => (c.rows ? { rowsPerInvocation: c.rows } : {});
const problem = (c: Case): AttentionProblem => ({
  batch: c.batch,
  heads: c.heads,
  tq: c.tq,
  tk: c.tk,
  headDim: c.d,
  scale: c.scale ?? 1 / Math.sqrt(c.d),
  causal: c.causal ?? false,
});

/** Separate dense q [B,Tq,H·D], k/v [B,Tk,H·D]; returns max rel error vs the f64 reference. */
async function runDense(ctx: GpuContext, c: Case, dtype: DType, seed: number): Promise<number> {
  const C = c.heads * c.d;
  const amp = c.amp ?? 1;
  const round = (x: Float32Array) => (dtype === 'f16' ? roundToF16(x) : x);
  const q = round(randomArray(c.batch * c.tq * C, seed, -amp, amp));
  const k = round(randomArray(c.batch * c.tk * C, seed + 1, -amp, amp));
  const v = round(randomArray(c.batch * c.tk * C, seed + 2, -1, 1));
  const tq = ctx.upload(q, [c.batch, c.tq, C], dtype, 'q');
  const tk = ctx.upload(k, [c.batch, c.tk, C], dtype, 'k');
  const tv = ctx.upload(v, [c.batch, c.tk, C], dtype, 'v');
  const opts = { heads: c.heads, causal: c.causal ?? false, ...(c.scale ? { scale: c.scale } : {}), ...kernelOpt(c) };
  const t0 = performance.now();
  const got = await checked(ctx, name(c), async () => ctx.read(await attention(ctx, tq, tk, tv, opts)));
  const want = attentionReference(
    problem(c),
    { data: q, view: denseView(c.tq, C, c.d) },
    { data: k, view: denseView(c.tk, C, c.d) },
    { data: v, view: denseView(c.tk, C, c.d) },
  );
  const cmp = compare(got, want);
  console.log(`[attention ${dtype}] ${name(c)}: ${describeComparison(cmp)} (${(performance.now() - t0).toFixed(0)} ms)`);
  ctx.release(tq, tk, tv);
  return cmp.maxRel;
}

/** q/k/v as slices of one fused [B,T,3·H·D] tensor; out written into columns of a wider [B,T,W] tensor. */
async function runFused(ctx: GpuContext, c: Case, dtype: DType, seed: number): Promise<number> {
  expect(c.tq).toBe(c.tk);
  const C = c.heads * c.d;
  const T = c.tq;
  const round = (x: Float32Array) => (dtype === 'f16' ? roundToF16(x) : x);
  const qkv = round(randomArray(c.batch * T * 3 * C, seed));
  const fused = ctx.upload(qkv, [c.batch, T, 3 * C], dtype, 'qkv');
  const W = C + 7; // output row stride, with a 5-column offset: the rest must stay untouched
  const sentinel = new Float32Array(c.batch * T * W).fill(-7);
  const outT: Tensor = ctx.upload(sentinel, [c.batch, T, W], dtype, 'out-wide');
  const slice = (col: number) => ({ tensor: fused, colOffset: col });
  await checked(ctx, `fused ${name(c)}`, () =>
    attention(ctx, slice(0), slice(C), slice(2 * C), {
      heads: c.heads,
      headDim: c.d,
      causal: c.causal ?? false,
      out: { tensor: outT, colOffset: 5 },
      ...kernelOpt(c),
    }),
  );
  const got = await ctx.read(outT);
  const view = (col: number) => ({ data: qkv, view: denseView(T, 3 * C, c.d, col) });
  const want = attentionReference(problem(c), view(0), view(C), view(2 * C));
  const inner = new Float32Array(c.batch * T * C);
  let untouched = true;
  for (let r = 0; r < c.batch * T; r++) {
    for (let x = 0; x < W; x++) {
      const g = got[r * W + x]!;
      if (x >= 5 && x < 5 + C) inner[r * C + x - 5] = g;
      else untouched &&= g === -7;
    }
  }
  expect(untouched, 'columns outside the out slice were written').toBe(true);
  const cmp = compare(inner, want);
  console.log(`[attention ${dtype}] fused qkv ${name(c)}: ${describeComparison(cmp)}`);
  ctx.release(fused, outT);
  return cmp.maxRel;
}

const F32_TOL = 1e-5;
const F16_TOL = 3e-3;
/**
 * Kernels whose f32 path is checked here. The 4-rows kernel is SwiftShader's (the op picks it there) and
 * is checked there on every case; lavapipe, the f16 tier, takes 10-40 s to compile each of its variants,
 * so there it runs only in the f16 test.
 */
const F32_KERNELS: readonly (1 | 4)[] = TEST_ADAPTER === 'lavapipe' ? [1] : [1, 4];

describe(`attention on ${TEST_ADAPTER}`, () => {
  for (const rows of F32_KERNELS) {
    it(`${rows} row(s) per invocation: matches the f64 reference on odd sizes (B 1..2, H 1..3, Tq 1/17/130, Tk 1/77/130, D 8/20/64)`, async () => {
      const ctx = await testContext();
      let i = 0;
      for (const d of [8, 20, 64]) {
        for (const tq of [1, 17, 130]) {
          for (const tk of [1, 77, 130]) {
            const c = { batch: 1 + (i % 2), heads: 1 + (i % 3), tq, tk, d, rows };
            expect(await runDense(ctx, c, 'f32', 100 + i), name(c)).toBeLessThanOrEqual(F32_TOL);
            i++;
          }
        }
      }
    });

    it(`${rows} row(s) per invocation: applies the causal mask (Tq = Tk) and skips fully masked tiles`, async () => {
      const ctx = await testContext();
      let i = 0;
      for (const d of [8, 20, 64]) {
        for (const t of [1, 17, 130]) {
          const c = { batch: 2 - (i % 2), heads: 1 + (i % 3), tq: t, tk: t, d, causal: true, rows };
          expect(await runDense(ctx, c, 'f32', 300 + i), name(c)).toBeLessThanOrEqual(F32_TOL);
          i++;
        }
      }
    });

    it(`${rows} row(s) per invocation: q/k/v as slices of a fused qkv tensor, out into a column slice`, async () => {
      const ctx = await testContext();
      const cases: Case[] = [
        { batch: 2, heads: 3, tq: 130, tk: 130, d: 20, rows },
        { batch: 2, heads: 2, tq: 77, tk: 77, d: 64, causal: true, rows },
        { batch: 1, heads: 3, tq: 17, tk: 17, d: 8, rows },
      ];
      for (const [j, c] of cases.entries()) {
        expect(await runFused(ctx, c, 'f32', 500 + j), name(c)).toBeLessThanOrEqual(F32_TOL);
      }
    });
  }

  it('stays exact with large logits (running max) and other head dims, incl. the split path for D > 80', async () => {
    const ctx = await testContext();
    expect(planAttention(64)).toEqual({ nb: 4, bk: 32, chunks: 1 });
    expect(planAttention(512).chunks).toBeGreaterThan(1);
    const cases: Case[] = [
      // Logits up to ~±300: exp overflows f32 without the running max. f32 itself rounds such a logit by
      // ~300·2^-24 ≈ 2e-5 (before any accumulation), which the softmax passes on: the bound is looser.
      { batch: 1, heads: 2, tq: 70, tk: 77, d: 64, scale: 4, amp: 3, tol: 1e-4, rows: 1 },
      ...(TEST_ADAPTER === 'lavapipe' ? [] : [{ batch: 1, heads: 2, tq: 70, tk: 77, d: 64, scale: 4, amp: 3, tol: 1e-4, rows: 4 as const }]),
      { batch: 2, heads: 1, tq: 33, tk: 45, d: 40 },
      { batch: 1, heads: 2, tq: 19, tk: 77, d: 80 },
      { batch: 1, heads: 2, tq: 17, tk: 41, d: 160 },
      { batch: 1, heads: 1, tq: 70, tk: 70, d: 512 },
      { batch: 1, heads: 1, tq: 66, tk: 66, d: 512, causal: true },
      { batch: 2, heads: 1, tq: 130, tk: 1, d: 20, causal: false }, // Tk = 1: output = v exactly
    ];
    for (const [j, c] of cases.entries()) {
      expect(await runDense(ctx, c, 'f32', 700 + j), name(c)).toBeLessThanOrEqual(c.tol ?? F32_TOL);
    }
  });

  it('rejects operands that do not fit their tensors', async () => {
    const ctx = await testContext();
    const t = ctx.upload(new Float32Array(2 * 5 * 8), [2, 5, 8], 'f32', 'small');
    await expect(attention(ctx, t, t, t, { heads: 3 })).rejects.toThrow(RangeError);
    await expect(attention(ctx, { tensor: t, colOffset: 4 }, t, t, { heads: 2, headDim: 4 })).rejects.toThrow(/reaches element/);
    await expect(attention(ctx, { tensor: t }, t, t, { heads: 2 })).rejects.toThrow(/give headDim/);
    await expect(attention(ctx, t, t, t, { heads: 2, out: t })).rejects.toThrow(/must not share a buffer/);
    ctx.release(t);
  });

  it('runs f16 storage where shader-f16 exists, and refuses it by name where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      const cases: Case[] = [
        { batch: 2, heads: 3, tq: 130, tk: 77, d: 64 },
        { batch: 1, heads: 2, tq: 17, tk: 130, d: 20 },
        { batch: 2, heads: 1, tq: 130, tk: 130, d: 8, causal: true },
        { batch: 1, heads: 3, tq: 130, tk: 77, d: 8, rows: 4 },
      ];
      for (const [j, c] of cases.entries()) {
        expect(await runDense(ctx, c, 'f16', 900 + j), name(c)).toBeLessThanOrEqual(F16_TOL);
      }
      const fused = { batch: 2, heads: 2, tq: 77, tk: 77, d: 64, causal: true };
      expect(await runFused(ctx, fused, 'f16', 950), name(fused)).toBeLessThanOrEqual(F16_TOL);
    } else {
      expect(ctx.hasF16).toBe(false);
      expect(() => ctx.upload(new Float32Array(12), [1, 3, 4], 'f16', 'q16')).toThrow(FeatureMissingError);
      // A tensor that claims f16 (as a caller on another device might pass) is refused by the op itself.
      const t32 = ctx.upload(new Float32Array(12), [1, 3, 4], 'f32', 'q32');
      const fake: Tensor = { ...t32, dtype: 'f16' };
      await expect(attention(ctx, fake, fake, fake, { heads: 1 })).rejects.toThrow(FeatureMissingError);
      ctx.release(t32);
    }
  });
});
