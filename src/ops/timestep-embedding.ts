/**
 * Sinusoidal timestep embeddings (diffusers get_timestep_embedding, the UNet's time_proj and SDXL's
 * add_time_proj), computed on the CPU and uploaded.
 *
 * Why the CPU: the arguments t·freq reach ~1000 (timesteps) and ~1300 (SDXL time_ids such as
 * original_size 1024), and WGSL bounds sin/cos error only on [-π, π]. SwiftShader's sin/cos are off by
 * ~2e-4 there, which alone put a whole tiny-UNet forward 2.9e-4 off (DESIGN.md, "Benchmarks"). These
 * are a few thousand values per step, so the CPU costs nothing measurable.
 *
 * Why float32 steps: the reference computes freq = exp(-ln(P)·i/(half - shift)) and t·freq in float32
 * and then sin/cos of that float32 argument (golden/README.md, "Tolerance advice"). Computing in f64
 * instead differs by up to 9.3e-5 on time_ids_emb256: half an ulp of an argument near 1000 is 3e-5,
 * so any change in how freq or t·freq round moves sin/cos by that much. We therefore reproduce every
 * float32 step with Math.fround, including torch's CPU expf (SLEEF xexpf, 1-ulp, which rounds
 * differently from a correctly rounded exp at a few i: a correctly rounded exp alone left 5.9e-5),
 * and take only sin/cos in f64 of the float32 argument. The result is the reference to one f32 ulp
 * (5.96e-8 on every op_timestep_embedding tensor).
 */
import type { GpuContext } from '../gpu/context';
import type { DType, Tensor } from '../gpu/tensor';
import { concat } from './concat';

export interface TimestepEmbeddingConfig {
  /** [cos, sin] instead of [sin, cos] (unet config flip_sin_to_cos). */
  flipSinToCos: boolean;
  /** freq_i = exp(-ln(maxPeriod)·i / (half - shift)) (unet config freq_shift). */
  downscaleFreqShift: number;
  /** Multiplies t·freq (default 1). */
  scale?: number;
  /** Default 10000. */
  maxPeriod?: number;
}

/** SDXL's time_proj and add_time_proj: flip_sin_to_cos=True, freq_shift=0. */
export const SDXL_TIME_PROJ: TimestepEmbeddingConfig = { flipSinToCos: true, downscaleFreqShift: 0 };
/** get_timestep_embedding's own defaults: [sin, cos], shift 1. */
export const DIFFUSERS_DEFAULT_TIME_PROJ: TimestepEmbeddingConfig = { flipSinToCos: false, downscaleFreqShift: 1 };

const f = Math.fround;

/**
 * expf as torch's CPU kernels compute it (Vectorized<float>::exp = Sleef_expf8_u10, SLEEF's xexpf in
 * sleefsimdsp.c, built with FMA): Cody-Waite reduction by ln 2 and a degree-5 polynomial, every step
 * in float32. fma(a, b, c) is f32(a·b + c): a·b of two floats is exact in f64, so only the sum can
 * double-round, which needs a near-tie at 2^-29 relative and did not occur for these inputs.
 */
export function expf32(x: number): number {
  const d = f(x);
  if (d < -104) return 0;
  if (d > 100) return Infinity;
  const q = roundHalfEven(f(d * f(1.4426950408889634)));
  const fma = (a: number, b: number, c: number) => f(a * b + c);
  let s = fma(q, f(-0.693145751953125), d);
  s = fma(q, f(-1.428606765330187e-6), s);
  let u = f(0.000198527617612853646278381);
  u = fma(u, s, f(0.00139304355252534151077271));
  u = fma(u, s, f(0.00833336077630519866943359));
  u = fma(u, s, f(0.0416664853692054748535156));
  u = fma(u, s, f(0.166666671633720397949219));
  u = fma(u, s, 0.5);
  u = f(1 + fma(f(s * s), u, s));
  return f(u * 2 ** q);
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The float32 frequencies torch computes: expf(f32(f32(-ln P)·i) / (half - shift)). */
export function timestepFrequencies(dim: number, config: TimestepEmbeddingConfig): Float32Array {
  const half = Math.floor(dim / 2);
  const denom = half - config.downscaleFreqShift;
  if (half > 0 && denom === 0) throw new RangeError(`timestep embedding: dim ${dim} with shift ${config.downscaleFreqShift} divides by zero`);
  const negLog = f(-Math.log(config.maxPeriod ?? 10000));
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = expf32(f(f(negLog * i) / f(denom)));
  return freqs;
}

/** get_timestep_embedding(timesteps, dim, ...) as [T, dim] float32 (odd dim: a zero last column). */
export function timestepEmbedding(
  timesteps: ArrayLike<number>,
  dim: number,
  config: TimestepEmbeddingConfig,
): Float32Array {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`timestep embedding: bad dim ${dim}`);
  const half = Math.floor(dim / 2);
  const freqs = timestepFrequencies(dim, config);
  const scale = f(config.scale ?? 1);
  const out = new Float32Array(timesteps.length * dim);
  const [first, second] = config.flipSinToCos ? [Math.cos, Math.sin] : [Math.sin, Math.cos];
  for (let r = 0; r < timesteps.length; r++) {
    const t = f(timesteps[r]!);
    for (let i = 0; i < half; i++) {
      const arg = f(scale * f(t * freqs[i]!));
      out[r * dim + i] = first(arg);
      out[r * dim + half + i] = second(arg);
    }
  }
  return out;
}

/**
 * SDXL micro-conditioning, the time half: add_time_proj(time_ids.flatten()).reshape(B, -1).
 * timeIds is [B, k] row-major (k = 6: original size, crop top-left, target size); returns [B, k·dim].
 */
export function sdxlTimeIdsEmbedding(
  timeIds: ArrayLike<number>,
  batch: number,
  addTimeEmbedDim: number,
  config: TimestepEmbeddingConfig = SDXL_TIME_PROJ,
): Float32Array {
  if (batch < 1 || timeIds.length % batch !== 0) throw new RangeError(`time_ids: ${timeIds.length} values for batch ${batch}`);
  // [B·k, dim] row-major is already [B, k·dim].
  return timestepEmbedding(timeIds, addTimeEmbedDim, config);
}

/**
 * The input of SDXL's add_embedding: torch.concat([text_embeds, time_embeds], dim=-1), [B, T + k·dim]
 * (text first, as UNet2DConditionModel does for addition_embed_type='text_time').
 */
export function sdxlAddEmbedInput(
  textEmbeds: ArrayLike<number>,
  timeIds: ArrayLike<number>,
  batch: number,
  addTimeEmbedDim: number,
  config: TimestepEmbeddingConfig = SDXL_TIME_PROJ,
): Float32Array {
  if (textEmbeds.length % batch !== 0) throw new RangeError(`text_embeds: ${textEmbeds.length} values for batch ${batch}`);
  const textDim = textEmbeds.length / batch;
  const time = sdxlTimeIdsEmbedding(timeIds, batch, addTimeEmbedDim, config);
  const timeDim = time.length / batch;
  const out = new Float32Array(batch * (textDim + timeDim));
  for (let b = 0; b < batch; b++) {
    const row = b * (textDim + timeDim);
    for (let j = 0; j < textDim; j++) out[row + j] = textEmbeds[b * textDim + j]!;
    out.set(time.subarray(b * timeDim, (b + 1) * timeDim), row + textDim);
  }
  return out;
}

/** timestepEmbedding uploaded as a [T, dim] tensor (f16 storage when dtype is f16). */
export function uploadTimestepEmbedding(
  ctx: GpuContext,
  timesteps: ArrayLike<number>,
  dim: number,
  config: TimestepEmbeddingConfig,
  dtype: DType,
): Tensor {
  return ctx.upload(timestepEmbedding(timesteps, dim, config), [timesteps.length, dim], dtype, 'time-proj');
}

/**
 * sdxlAddEmbedInput with text_embeds already on the GPU (the pooled output of text_encoder_2):
 * uploads the time_ids embedding in textEmbeds' dtype and concatenates [text_embeds, time_embeds].
 * It flushes before releasing the temporary, because a later upload into the recycled buffer would be
 * written by queue.writeBuffer ahead of the still-unsubmitted concat. Runs once per generation.
 */
export async function sdxlAddEmbedInputGpu(
  ctx: GpuContext,
  textEmbeds: Tensor,
  timeIds: ArrayLike<number>,
  addTimeEmbedDim: number,
  config: TimestepEmbeddingConfig = SDXL_TIME_PROJ,
): Promise<Tensor> {
  if (textEmbeds.shape.length !== 2) throw new RangeError(`text_embeds must be [B, T], got [${textEmbeds.shape.join(', ')}]`);
  const batch = textEmbeds.shape[0]!;
  const time = sdxlTimeIdsEmbedding(timeIds, batch, addTimeEmbedDim, config);
  const timeT = ctx.upload(time, [batch, time.length / batch], textEmbeds.dtype, 'add-time-proj');
  const out = await concat(ctx, [textEmbeds, timeT], 1);
  await ctx.flush();
  ctx.release(timeT);
  return out;
}
