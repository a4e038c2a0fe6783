/**
 * The forward (noising) process of a training step, on the CPU (spec §1.6 and §9.1; golden-training
 * README item 5): DDPM's schedule from the model's scheduler config, per-sample timesteps
 * t ~ U{0..T−1}, ε ~ N(0, I) plus CIDM's noise offset, and diffusers' DDPMScheduler.add_noise:
 *   noisy = sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·ε
 * ᾱ is bit-identical to torch's (src/cidm/train/ddpm-schedule.ts); add_noise rounds like torch on
 * f32 tensors: sqrt(ᾱ_t) and
 * sqrt(1 − ᾱ_t) in f32, then each product and the sum in f32. A latent is small ([4, 128, 128] for
 * SDXL at 1024²), so this costs less than the upload it precedes.
 */
import { NoiseStream } from '../../diffusion/rng';
import { ddpmAlphasCumprod, type BetaScheduleConfig } from './ddpm-schedule';

/** The part of a diffusers scheduler_config.json that defines the training noise schedule. */
export type NoiseScheduleConfig = BetaScheduleConfig;

/** CIDM's `noise_offset` (YAML `noise_offset: 0.01`, trainer_edlora.py:205-207). */
export const CIDM_NOISE_OFFSET = 0.01;

const f = Math.fround;

export class DdpmNoiser {
  /** ᾱ_t for t = 0..T−1, float32 values. */
  readonly alphasCumprod: Float32Array;

  constructor(readonly config: NoiseScheduleConfig) {
    this.alphasCumprod = ddpmAlphasCumprod(config);
  }

  get numTrainTimesteps(): number {
    return this.config.num_train_timesteps;
  }

  /** [sqrt(ᾱ_t), sqrt(1 − ᾱ_t)] as f32, as add_noise computes them. */
  coefficients(t: number): [number, number] {
    if (!Number.isInteger(t) || t < 0 || t >= this.alphasCumprod.length) throw new RangeError(`timestep ${t} is outside 0..${this.alphasCumprod.length - 1}`);
    const a = this.alphasCumprod[t]!;
    return [f(Math.sqrt(a)), f(Math.sqrt(f(1 - a)))];
  }

  /** noisy[b] = sqrt(ᾱ_{t_b})·x0[b] + sqrt(1 − ᾱ_{t_b})·ε[b] for x0, ε [B, ...] and one t per sample. */
  addNoise(x0: Float32Array, noise: Float32Array, batch: number, timesteps: readonly number[]): Float32Array {
    if (noise.length !== x0.length) throw new RangeError(`addNoise: ${noise.length} noise values for ${x0.length} latents`);
    if (timesteps.length !== batch || x0.length % batch) throw new RangeError(`addNoise: ${timesteps.length} timesteps for a batch of ${batch} over ${x0.length} values`);
    const per = x0.length / batch;
    const out = new Float32Array(x0.length);
    for (let b = 0; b < batch; b++) {
      const [sa, sb] = this.coefficients(timesteps[b]!);
      for (let i = b * per; i < (b + 1) * per; i++) out[i] = f(f(sa * x0[i]!) + f(sb * noise[i]!));
    }
    return out;
  }
}

export interface TrainingDraw {
  /** One timestep per sample, uniform in 0..T−1. */
  timesteps: number[];
  /** ε [B, C, H, W] with the per-(sample, channel) offset already added. */
  noise: Float32Array;
}

/**
 * Streams of the training RNG: one per step, far from the sampling streams (0 and 1 + step,
 * src/diffusion/rng.ts), so a resumed run draws step k's values without replaying steps 0..k−1.
 */
const TRAIN_STREAM_BASE = 0x40000000;

/**
 * The random draws of training step `step` (0-based) for latents of `shape` [B, C, H, W]:
 * ε = N(0, I) + noiseOffset·N(0, 1)[b, c] broadcast over H×W (spec §1.6), then t_b ~ U{0..T−1}.
 * The project's seeded generator, so a (seed, step) pair gives the same values everywhere.
 */
export function drawTrainingNoise(seed: number, step: number, shape: readonly number[], numTrainTimesteps: number, noiseOffset = CIDM_NOISE_OFFSET): TrainingDraw {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`step ${step} must be a non-negative integer`);
  if (shape.length < 2) throw new RangeError(`latent shape [${shape.join(', ')}] must be [B, C, ...]`);
  const [batch, channels] = shape as [number, number];
  const spatial = shape.slice(2).reduce((a, d) => a * d, 1);
  const rng = new NoiseStream(seed, TRAIN_STREAM_BASE + step);
  const noise = rng.normals(batch * channels * spatial);
  if (noiseOffset !== 0) {
    for (let bc = 0; bc < batch * channels; bc++) {
      const off = f(noiseOffset * rng.normal());
      for (let i = bc * spatial; i < (bc + 1) * spatial; i++) noise[i] = f(noise[i]! + off);
    }
  }
  const timesteps: number[] = [];
  // floor(u·T / 2³²) with u a uniform 32-bit integer: every t in 0..T−1, never T.
  for (let b = 0; b < batch; b++) timesteps.push(Math.floor((rng.nextUint32() * numTrainTimesteps) / 4294967296));
  return { timesteps, noise };
}
