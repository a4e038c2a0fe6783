/**
 * A scheduler step as a linear combination, for the GPU sampling loop (src/ops/sampler-step.ts).
 *
 * Every step the studio's GPU loop takes is linear in its tensors: with the model output `out`, the
 * latents `x`, the kept tensor `hist` of the previous step (DPM++ 2M's x̂₀) and the ancestral noise z,
 *   x' = x·x + out·out + hist·hist + noise·z,   kept' = keep.x·x + keep.out·out.
 * ε, v and x̂₀ parameterisations are linear in (x, out) at a fixed noise level (prediction.ts), and the
 * Euler, Euler a, DDIM (η = 0) and DPM-Solver++(2M) updates are linear in those. The coefficients come
 * from each scheduler's own sigma / ᾱ tables, so the host step (the reference) and the GPU step share
 * one schedule; schedulers/linear-step.test.ts checks that applying them equals `step()`.
 */
import type { PredictionType } from './prediction';

/** x₀ = x·x + out·out: the model output turned into the clean-sample estimate. */
export interface LinearForm {
  x: number;
  out: number;
}

export interface LinearStep {
  x: number;
  out: number;
  /** Coefficient of the tensor kept by the previous step (0 when none is read). */
  hist: number;
  /** Coefficient of the step's fresh N(0, I) noise (ancestral samplers; 0 otherwise). */
  noise: number;
  /** What this step keeps for the next one (DPM++ 2M: its x̂₀); absent: nothing is kept. */
  keep?: LinearForm;
}

/** A scheduler whose steps are linear; `taken` is how many steps this run has taken before step i. */
export interface LinearStepper {
  linearStep(i: number, taken: number): LinearStep;
}

export function isLinearStepper(s: object): s is LinearStepper {
  return typeof (s as Partial<LinearStepper>).linearStep === 'function';
}

/** prediction.ts veX0 as coefficients (Euler latents x = x₀ + s·ε). */
export function veX0Form(type: PredictionType, s: number): LinearForm {
  if (type === 'sample') return { x: 0, out: 1 };
  if (type === 'v_prediction') return { x: 1 / (s * s + 1), out: -s / Math.sqrt(s * s + 1) };
  return { x: 1, out: -s };
}

/** prediction.ts vpX0 as coefficients (x_t = α x₀ + σ ε). */
export function vpX0Form(type: PredictionType, alpha: number, sigma: number): LinearForm {
  if (type === 'sample') return { x: 0, out: 1 };
  if (type === 'v_prediction') return { x: alpha, out: -sigma };
  return { x: 1 / alpha, out: -sigma / alpha };
}

/** ε from the model output on x_t = α x₀ + σ ε (DDIM's split): ε = (x − α x₀)/σ for 'sample', α v + σ x for v. */
export function vpEpsForm(type: PredictionType, alpha: number, sigma: number): LinearForm {
  if (type === 'sample') return { x: 1 / sigma, out: -alpha / sigma };
  if (type === 'v_prediction') return { x: sigma, out: alpha };
  return { x: 0, out: 1 };
}

/** Applies a step on host arrays (tests, and the reference of the GPU kernel). */
export function applyLinearStep(s: LinearStep, x: Float32Array, out: Float32Array, hist?: Float32Array, noise?: Float32Array): { next: Float32Array; kept: Float32Array | null } {
  const next = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) next[k] = s.x * x[k]! + s.out * out[k]! + (s.hist ? s.hist * hist![k]! : 0) + (s.noise ? s.noise * noise![k]! : 0);
  const keep = s.keep;
  const kept = keep ? Float32Array.from(x, (v, k) => keep.x * v + keep.out * out[k]!) : null;
  return { next, kept };
}
