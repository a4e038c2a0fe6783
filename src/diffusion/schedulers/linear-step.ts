/**
 * A scheduler step as a linear combination, for the GPU sampling loop (src/ops/sampler-step.ts).
 *
 * Every step the studio's GPU loop takes is linear in its tensors: with the model output `out`, the
 * latents `x`, HIST_SLOTS history tensors h_s kept by earlier steps and the ancestral noise z,
 *   x' = x·x + out·out + Σ_s hist[s]·h_s + noise·z,   then for each keep k: h_{k.slot} ← k.x·x + k.out·out
 * (every slot is read before any is written). DPM++ 2M keeps its x̂₀ in slot 0; PNDM (PLMS) keeps its
 * last three model outputs in slots 0-2 as a ring and its first step's sample in slot 3 (pndm.ts).
 * ε, v and x̂₀ parameterisations are linear in (x, out) at a fixed noise level (prediction.ts), and the
 * Euler, Euler a, DDIM (η = 0), DPM-Solver++(2M) and PLMS updates are linear in those. The coefficients come
 * from each scheduler's own sigma / ᾱ tables, so the host step (the reference) and the GPU step share
 * one schedule; schedulers/linear-step.test.ts checks that applying them equals `step()`.
 */
import type { PredictionType } from './prediction';

/** x₀ = x·x + out·out: the model output turned into the clean-sample estimate. */
export interface LinearForm {
  x: number;
  out: number;
}

/** History tensors a step can read and write (PNDM needs all four; the GPU loop allocates them). */
export const HIST_SLOTS = 4;

/** A history slot written by a step: h_slot ← x·x + out·out (x and out of this step). */
export interface KeptSlot extends LinearForm {
  slot: number;
}

export interface LinearStep {
  x: number;
  out: number;
  /** Coefficients of history slots 0, 1, … (missing or 0: not read). */
  hist: readonly number[];
  /** Coefficient of the step's fresh N(0, I) noise (ancestral samplers; 0 otherwise). */
  noise: number;
  /** What this step keeps for later ones (DPM++ 2M: its x̂₀; PNDM: its model output, its sample). */
  keep?: readonly KeptSlot[];
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

/**
 * Applies a step on host arrays (tests, and the reference of the GPU kernel). `hist` holds the slots
 * (a missing slot reads as zeros); returns the next latents and the slots after the step's keeps.
 */
export function applyLinearStep(s: LinearStep, x: Float32Array, out: Float32Array, hist: readonly (Float32Array | undefined)[] = [], noise?: Float32Array): { next: Float32Array; hist: (Float32Array | undefined)[] } {
  if (s.hist.length > HIST_SLOTS || (s.keep ?? []).some((k) => k.slot < 0 || k.slot >= HIST_SLOTS)) throw new RangeError(`a linear step uses at most ${HIST_SLOTS} history slots`);
  const next = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) {
    let v = s.x * x[k]! + s.out * out[k]! + (s.noise ? s.noise * noise![k]! : 0);
    s.hist.forEach((c, slot) => {
      if (c) v += c * (hist[slot]?.[k] ?? 0);
    });
    next[k] = v;
  }
  const after = Array.from({ length: HIST_SLOTS }, (_, slot) => hist[slot]);
  for (const keep of s.keep ?? []) after[keep.slot] = Float32Array.from(x, (v, k) => keep.x * v + keep.out * out[k]!);
  return { next, hist: after };
}
