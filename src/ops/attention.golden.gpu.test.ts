/**
 * The attention core against diffusers (golden/cases/op_attention_self, op_attention_cross,
 * op_vae_mid_attention). The cases hold the Attention module's input and output; the q/k/v and out
 * projections (and the VAE's GroupNorm and residual) are computed here on the CPU in f64 from the tiny
 * models' weights, so a mismatch points at the attention core. README tolerance for one op: 1e-4.
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison } from '../../tests/numeric';
import { linear, loadUnetAttentionCase, loadVaeAttentionCase, type AttentionGoldenCase } from '../../tests/golden-attn-case';
import { attention } from './attention';
import { attentionReference, denseView } from './attention.reference';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { GpuContext } from '../gpu/context';
import type { DType } from '../gpu/tensor';

const GOLDEN_TOL = 1e-4;

interface Projected {
  B: number;
  Tq: number;
  Tk: number;
  C: number;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

function project(g: AttentionGoldenCase): Projected {
  const [B, Tq] = g.hidden.shape as [number, number];
  const Tk = g.context.shape[1]!;
  const C = g.wq.shape[0]!;
  return {
    B,
    Tq,
    Tk,
    C,
    q: Float32Array.from(linear(g.hidden.data, B * Tq, g.wq, g.bq)),
    k: Float32Array.from(linear(g.context.data, B * Tk, g.wk, g.bk)),
    v: Float32Array.from(linear(g.context.data, B * Tk, g.wv, g.bv)),
  };
}

/** to_out.0 on the attention result, in f64. */
const finish = (g: AttentionGoldenCase, p: Projected, attn: ArrayLike<number>) => linear(attn, p.B * p.Tq, g.wo, g.bo);

async function gpuAttention(ctx: GpuContext, g: AttentionGoldenCase, p: Projected, dtype: DType): Promise<Float32Array> {
  const r = (x: Float32Array) => (dtype === 'f16' ? roundToF16(x) : x);
  const q = ctx.upload(r(p.q), [p.B, p.Tq, p.C], dtype, 'golden-q');
  const k = ctx.upload(r(p.k), [p.B, p.Tk, p.C], dtype, 'golden-k');
  const v = ctx.upload(r(p.v), [p.B, p.Tk, p.C], dtype, 'golden-v');
  const out = await checked(ctx, 'golden attention', async () => ctx.read(await attention(ctx, q, k, v, { heads: g.heads })));
  ctx.release(q, k, v);
  return out;
}

function report(label: string, got: ArrayLike<number>, want: ArrayLike<number>) {
  const c = compare(got, want);
  console.log(`[attention golden] ${label}: ${describeComparison(c)}`);
  return c;
}

/** VAE: out-projection, residual add, tokens [HW, C] back to NCHW (rescale_output_factor 1). */
function vaeOutput(g: ReturnType<typeof loadVaeAttentionCase>, projected: Float64Array): Float64Array {
  const [, C, H, W] = g.x.shape as [number, number, number, number];
  const y = new Float64Array(C * H * W);
  for (let ch = 0; ch < C; ch++) for (let t = 0; t < H * W; t++) y[ch * H * W + t] = projected[t * C + ch]! + g.x.data[ch * H * W + t]!;
  return y;
}

describe(`attention golden (diffusers) on ${TEST_ADAPTER}`, () => {
  for (const name of ['op_attention_self', 'op_attention_cross'] as const) {
    it(`${name}: projections on the CPU, attention core on the GPU`, async () => {
      const ctx = await testContext();
      const g = loadUnetAttentionCase(name);
      const p = project(g);
      const D = p.C / g.heads;
      const view = (T: number) => denseView(T, p.C, D);
      const ref = attentionReference(
        { batch: p.B, heads: g.heads, tq: p.Tq, tk: p.Tk, headDim: D, scale: 1 / Math.sqrt(D), causal: false },
        { data: p.q, view: view(p.Tq) },
        { data: p.k, view: view(p.Tk) },
        { data: p.v, view: view(p.Tk) },
      );
      expect(report(`${name} CPU reference`, finish(g, p, ref), g.output.data).maxAbs).toBeLessThanOrEqual(GOLDEN_TOL);
      const got = await gpuAttention(ctx, g, p, 'f32');
      expect(report(`${name} core vs f64 core`, got, ref).maxRel).toBeLessThanOrEqual(1e-5);
      expect(report(`${name} f32`, finish(g, p, got), g.output.data).maxAbs).toBeLessThanOrEqual(GOLDEN_TOL);
    });
  }

  it('op_attention_self through a fused qkv tensor (slices with row stride 3C and column offsets)', async () => {
    const ctx = await testContext();
    const g = loadUnetAttentionCase('op_attention_self');
    const p = project(g);
    const qkv = new Float32Array(p.B * p.Tq * 3 * p.C);
    for (let r = 0; r < p.B * p.Tq; r++) {
      qkv.set(p.q.subarray(r * p.C, (r + 1) * p.C), r * 3 * p.C);
      qkv.set(p.k.subarray(r * p.C, (r + 1) * p.C), r * 3 * p.C + p.C);
      qkv.set(p.v.subarray(r * p.C, (r + 1) * p.C), r * 3 * p.C + 2 * p.C);
    }
    const t = ctx.upload(qkv, [p.B, p.Tq, 3 * p.C], 'f32', 'golden-qkv');
    const s = (col: number) => ({ tensor: t, colOffset: col });
    const got = await checked(ctx, 'golden fused', async () =>
      ctx.read(await attention(ctx, s(0), s(p.C), s(2 * p.C), { heads: g.heads, headDim: p.C / g.heads })),
    );
    expect(report('op_attention_self fused qkv f32', finish(g, p, got), g.output.data).maxAbs).toBeLessThanOrEqual(GOLDEN_TOL);
    ctx.release(t);
  });

  it('op_vae_mid_attention: single head of 64 with biased projections', async () => {
    const ctx = await testContext();
    const g = loadVaeAttentionCase();
    const p = project(g);
    const got = await gpuAttention(ctx, g, p, 'f32');
    expect(report('op_vae_mid_attention f32', vaeOutput(g, finish(g, p, got)), g.output.data).maxAbs).toBeLessThanOrEqual(GOLDEN_TOL);
  });

  it('f16 storage: within 3e-3 of the output scale on lavapipe, refused on swiftshader', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER !== 'lavapipe') {
      expect(ctx.hasF16).toBe(false);
      const g = loadUnetAttentionCase('op_attention_self');
      await expect(gpuAttention(ctx, g, project(g), 'f16')).rejects.toThrow(FeatureMissingError);
      return;
    }
    for (const name of ['op_attention_self', 'op_attention_cross'] as const) {
      const g = loadUnetAttentionCase(name);
      const p = project(g);
      const got = await gpuAttention(ctx, g, p, 'f16');
      expect(report(`${name} f16`, finish(g, p, got), g.output.data).maxRel).toBeLessThanOrEqual(3e-3);
    }
    const g = loadVaeAttentionCase();
    const p = project(g);
    const got = await gpuAttention(ctx, g, p, 'f16');
    expect(report('op_vae_mid_attention f16', vaeOutput(g, finish(g, p, got)), g.output.data).maxRel).toBeLessThanOrEqual(3e-3);
  });
});
