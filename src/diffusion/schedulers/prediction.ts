/**
 * What the UNet predicts, as the scheduler config's `prediction_type` says (diffusers): the noise ε
 * ('epsilon', SD/SDXL base), the velocity v = √ᾱ ε − √(1−ᾱ) x₀ ('v_prediction', Salimans & Ho 2022
 * §4; SD 2.x 768 and v-prediction SDXL fine-tunes) or the clean sample x₀ itself ('sample'). Every
 * scheduler turns the model output into x₀ (and DDIM also into ε) with the formulas of its diffusers
 * `step`; the two shared forms are here. Also the config checks that give a named error instead of a
 * silently wrong image.
 */
import type { SchedulerConfig } from './common';

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'v_prediction', 'sample'];

/** DPM-Solver's last sigma: 0 (newer diffusers, A1111) or sigma(0) of the training table (diffusers 0.25). */
export type FinalSigmasType = 'zero' | 'sigma_min';
export const FINAL_SIGMAS_TYPES: readonly FinalSigmasType[] = ['zero', 'sigma_min'];

/** A scheduler_config.json value this studio cannot sample with. */
export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
  readonly code = 'bad-scheduler-config';
  constructor(
    /** The config field, e.g. "prediction_type". */
    readonly field: string,
    readonly value: unknown,
    allowed: readonly string[],
  ) {
    super(`scheduler/scheduler_config.json: ${field} ${JSON.stringify(value)} is not supported (expected ${allowed.join(', ')}). Use the scheduler config that came with the model.`);
  }
}

/** The config's prediction_type ('epsilon' when absent, the diffusers default); anything else is refused by name. */
export function predictionTypeOf(c: SchedulerConfig): PredictionType {
  const v = c.prediction_type ?? 'epsilon';
  if (!(PREDICTION_TYPES as readonly string[]).includes(v)) throw new SchedulerConfigError('prediction_type', v, PREDICTION_TYPES);
  return v as PredictionType;
}

/** The config's final_sigmas_type ('zero' when absent: the studio's default, as newer diffusers). */
export function finalSigmasTypeOf(c: SchedulerConfig): FinalSigmasType {
  const v = c.final_sigmas_type ?? 'zero';
  if (!(FINAL_SIGMAS_TYPES as readonly string[]).includes(v)) throw new SchedulerConfigError('final_sigmas_type', v, FINAL_SIGMAS_TYPES);
  return v as FinalSigmasType;
}

/**
 * x₀ from the model output on the variance-preserving sample x_t = α x₀ + σ ε (α = √ᾱ, σ = √(1−ᾱ)):
 * diffusers DPMSolverMultistepScheduler.convert_model_output (dpmsolver++) — epsilon (x − σ·out)/α,
 * sample out, v_prediction α·x − σ·out.
 */
export function vpX0(type: PredictionType, x: Float32Array, out: Float32Array, alpha: number, sigma: number): Float32Array {
  const r = new Float32Array(x.length);
  if (type === 'sample') r.set(out);
  else if (type === 'v_prediction') for (let k = 0; k < x.length; k++) r[k] = alpha * x[k]! - sigma * out[k]!;
  else for (let k = 0; k < x.length; k++) r[k] = (x[k]! - sigma * out[k]!) / alpha;
  return r;
}

/**
 * x₀ from the model output on the variance-exploding sample x = x₀ + s ε (the Euler schedulers'
 * latents): diffusers EulerDiscreteScheduler.step — epsilon x − s·out, sample out, v_prediction
 * out·(−s/√(s²+1)) + x/(s²+1) (c_out and c_skip of Karras et al. 2022, Table 1, for v).
 */
export function veX0(type: PredictionType, x: Float32Array, out: Float32Array, s: number): Float32Array {
  const r = new Float32Array(x.length);
  if (type === 'sample') r.set(out);
  else if (type === 'v_prediction') {
    const cOut = -s / Math.sqrt(s * s + 1);
    for (let k = 0; k < x.length; k++) r[k] = out[k]! * cOut + x[k]! / (s * s + 1);
  } else for (let k = 0; k < x.length; k++) r[k] = x[k]! - s * out[k]!;
  return r;
}
