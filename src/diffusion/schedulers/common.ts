/**
 * Shared scheduler math, as diffusers 0.25.1 computes it: scaled_linear betas, alphas_cumprod,
 * 'leading' / 'trailing' / 'linspace' timestep spacing, sigma tables and Karras sigmas (rho 7,
 * Karras et al. 2022, eq. 5), plus newer diffusers' zero terminal SNR rescale (zero-snr.ts). Betas
 * and alphas_cumprod are rounded to float32 at every step the way torch computes them (linspace in
 * f32, cumprod in f32) so alphas_cumprod matches the reference bit for bit or within an ulp.
 */
import type { FinalSigmasType, PredictionType } from './prediction';
import { rescaleZeroTerminalSnr, ZERO_SNR_LAST_ALPHA_CUMPROD } from './zero-snr';

/** The subset of a diffusers scheduler_config.json the schedulers read (snake_case as in the file). */
export interface SchedulerConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: 'scaled_linear' | 'linear';
  steps_offset?: number;
  timestep_spacing?: 'leading' | 'trailing' | 'linspace';
  /** What the UNet predicts (prediction.ts); absent: 'epsilon'. Other strings are refused by name. */
  prediction_type?: PredictionType | (string & {});
  set_alpha_to_one?: boolean;
  use_karras_sigmas?: boolean;
  /** DPM-Solver only; 0.25.1 behaves as 'sigma_min', newer diffusers (and the studio, when absent) 'zero'. */
  final_sigmas_type?: FinalSigmasType | (string & {});
  /** Rescale the betas to zero terminal SNR (zero-snr.ts); absent: false. */
  rescale_betas_zero_snr?: boolean;
  /** PNDM only: true (SD-1.5's config) runs PLMS alone; the studio treats absent as true (pndm.ts). */
  skip_prk_steps?: boolean;
}

export interface Scheduler {
  timesteps: number[];
  /** The sigma table (timesteps.length + 1 entries) for sigma-based schedulers; DDIM has none. */
  sigmas?: number[];
  initNoiseSigma: number;
  /** num_inference_steps where it differs from timesteps.length (PNDM's PLMS schedule has one more entry). */
  inferenceSteps?: number;
  scaleModelInput(x: Float32Array, i: number): Float32Array;
  step(modelOutput: Float32Array, i: number, x: Float32Array, noise?: Float32Array): Float32Array;
}

const f = Math.fround;

/** torch.linspace(start, end, n, dtype=float32): start + i*step for the first half, end - (n-1-i)*step after. */
export function linspaceF32(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const step = f((end - start) / (n - 1));
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) out[i] = i < half ? f(f(start) + f(step * i)) : f(f(end) - f(step * (n - 1 - i)));
  return out;
}

/** The config's betas, rescaled to zero terminal SNR when rescale_betas_zero_snr says so (as diffusers' __init__). */
export function betas(c: SchedulerConfig): Float64Array {
  const b = baseBetas(c);
  return c.rescale_betas_zero_snr ? rescaleZeroTerminalSnr(b) : b;
}

function baseBetas(c: SchedulerConfig): Float64Array {
  const n = c.num_train_timesteps;
  if (c.beta_schedule === 'linear') return linspaceF32(c.beta_start, c.beta_end, n);
  if (c.beta_schedule !== 'scaled_linear') throw new Error(`unsupported beta_schedule ${String(c.beta_schedule)}`);
  // scaled_linear: linspace(sqrt(beta_start), sqrt(beta_end))^2 (the LDM / SD schedule).
  const r = linspaceF32(Math.sqrt(c.beta_start), Math.sqrt(c.beta_end), n);
  return r.map((v) => f(v * v));
}

/** alphas_cumprod = cumprod(1 - betas), in float32 like torch.cumprod. */
export function alphasCumprod(c: SchedulerConfig): Float64Array {
  const b = betas(c);
  const out = new Float64Array(b.length);
  let p = 1;
  for (let i = 0; i < b.length; i++) {
    p = f(p * f(1 - b[i]!));
    out[i] = p;
  }
  return out;
}

/**
 * alphas_cumprod of the sigma-based schedulers (Euler, Euler a, DPM-Solver): with zero terminal SNR
 * the last entry is 2^-24 instead of 0 so that sigma stays finite (diffusers scheduling_euler_discrete.py
 * and scheduling_dpmsolver_multistep.py __init__, after rescale_zero_terminal_snr).
 */
export function sigmaAlphasCumprod(c: SchedulerConfig): Float64Array {
  const ac = alphasCumprod(c);
  if (c.rescale_betas_zero_snr) ac[ac.length - 1] = ZERO_SNR_LAST_ALPHA_CUMPROD;
  return ac;
}

/** sigma(t) = sqrt((1 - abar_t) / abar_t), the variance-exploding view of the DDPM noise level. */
export function trainSigmas(ac: Float64Array): Float64Array {
  return ac.map((a) => f(Math.sqrt((1 - a) / a)));
}

/**
 * Inference timesteps, descending. 'leading' (SD/SDXL config): step_ratio = N // steps,
 * t = round(arange(steps) * ratio) reversed, + steps_offset. `extraSlot` reproduces DPM-Solver's
 * variant (ratio = N // (steps+1), drop the last of steps+1 entries).
 */
export function spacedTimesteps(c: SchedulerConfig, steps: number, extraSlot = false): number[] {
  const n = c.num_train_timesteps;
  const spacing = c.timestep_spacing ?? 'leading';
  const offset = c.steps_offset ?? 0;
  if (spacing === 'leading') {
    // DPM-Solver: round(arange(steps+1) * ratio)[::-1][:-1], i.e. i*ratio for i = steps..1.
    const ratio = Math.floor(n / (extraSlot ? steps + 1 : steps));
    const out: number[] = [];
    const top = extraSlot ? steps : steps - 1;
    for (let i = top; i >= top - steps + 1; i--) out.push(Math.round(i * ratio) + offset);
    return out;
  }
  if (spacing === 'trailing') {
    const ratio = n / steps;
    const out: number[] = [];
    for (let i = steps; i >= 1; i--) out.push(Math.round(i * ratio) - 1);
    return out;
  }
  // linspace: round(linspace(0, N-1, steps)) reversed.
  const out: number[] = [];
  for (let i = steps - 1; i >= 0; i--) out.push(Math.round((i * (n - 1)) / (steps - 1)));
  return out;
}

/** np.interp over the integer grid 0..len-1 (timesteps may be fractional in general). */
export function interpSigma(table: Float64Array, t: number): number {
  const lo = Math.max(0, Math.min(table.length - 1, Math.floor(t)));
  const hi = Math.min(table.length - 1, lo + 1);
  const w = t - lo;
  return table[lo]! * (1 - w) + table[hi]! * w;
}

/** Karras et al. 2022 eq. 5: sigma_i = (smax^(1/rho) + i/(n-1) (smin^(1/rho) - smax^(1/rho)))^rho. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, steps: number, rho = 7): number[] {
  const lo = sigmaMin ** (1 / rho);
  const hi = sigmaMax ** (1 / rho);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const ramp = steps === 1 ? 0 : i / (steps - 1);
    out.push((hi + ramp * (lo - hi)) ** rho);
  }
  return out;
}

/** diffusers `_sigma_to_t`: invert the sigma table by linear interpolation in log sigma. */
export function sigmaToT(sigma: number, logSigmas: Float64Array): number {
  const ls = Math.log(Math.max(sigma, 1e-10));
  const n = logSigmas.length;
  // low_idx = last index with log_sigmas[idx] <= ls (0 if none), clipped to n-2.
  let low = 0;
  for (let i = 0; i < n; i++) if (ls - logSigmas[i]! >= 0) low = i;
  low = Math.min(low, n - 2);
  const lo = logSigmas[low]!;
  const hi = logSigmas[low + 1]!;
  const w = Math.min(1, Math.max(0, (lo - ls) / (lo - hi)));
  return (1 - w) * low + w * (low + 1);
}

/** Elementwise helper: out[k] = fn(k). */
export function map(n: number, fn: (k: number) => number): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = fn(k);
  return out;
}
