/**
 * PNDMScheduler with skip_prk_steps (diffusers 0.25.1 scheduling_pndm.py, step_plms; Liu et al. 2022,
 * "Pseudo Numerical Methods for Diffusion Models", the PLMS linear multistep method), as SD-1.5's
 * scheduler_config.json selects it (skip_prk_steps: true, set_alpha_to_one: false, steps_offset: 1).
 *
 * Timesteps: the spaced ones, ascending t₀ < … < t_{n−1}, reordered as diffusers does for PLMS
 * (concatenate(t[:-1], t[-2:-1], t[-1:])[::-1]): descending with t_{n−2} twice, so n + 1 UNet calls.
 * The second call (counter 1) re-steps from the first call's sample with the average of both
 * predictions (a second-order start); later calls use the Adams–Bashforth combinations of the last
 * 2, 3 and 4 stored predictions (the counter-1 prediction is never stored, as in diffusers).
 * One step (_get_prev_sample, eq. 9 of the paper, with ᾱ_prev = final_alpha_cumprod past t = 0):
 *   x' = √(ᾱ_prev/ᾱ) x − (ᾱ_prev − ᾱ) ε / (ᾱ √(1−ᾱ_prev) + √(ᾱ (1−ᾱ) ᾱ_prev))
 * Scope: the PLMS form only (skip_prk_steps true, as SD-1.5's released scheduler config sets it); a config
 * asking for the Runge–Kutta warm-up steps is refused by name (PndmConfigError).
 */
import { alphasCumprod, map, spacedTimesteps, type Scheduler, type SchedulerConfig } from './common';
import { predictionTypeOf, type PredictionType } from './prediction';
import type { KeptSlot, LinearStep, LinearStepper } from './linear-step';

/** Adams–Bashforth weights of PLMS over the stored outputs, oldest first, the current output last. */
const PLMS_WEIGHTS: Record<number, readonly number[]> = {
  2: [-1 / 2, 3 / 2],
  3: [5 / 12, -16 / 12, 23 / 12],
  4: [-9 / 24, 37 / 24, -59 / 24, 55 / 24],
};
/** History slots of the GPU step (linear-step.ts): a ring of the last three stored outputs, and the first sample. */
const ETS_SLOTS = 3;
const CUR_SAMPLE_SLOT = 3;

/** A PNDM config asks for the Runge–Kutta warm-up steps, which the studio does not run. */
export class PndmConfigError extends Error {
  override readonly name = 'PndmConfigError';
  readonly code = 'unsupported-scheduler-config';
}

export class PndmScheduler implements Scheduler, LinearStepper {
  readonly timesteps: number[];
  readonly initNoiseSigma = 1;
  readonly inferenceSteps: number;
  readonly alphasCumprod: Float64Array;
  private readonly finalAlpha: number;
  private readonly stride: number;
  private readonly prediction: PredictionType;
  private ets: Float32Array[] = [];
  private counter = 0;
  private curSample: Float32Array | null = null;

  constructor(c: SchedulerConfig, steps: number) {
    if (c.skip_prk_steps === false) throw new PndmConfigError('PNDM with Runge–Kutta warm-up steps (skip_prk_steps: false) is not supported; the studio runs PNDM as PLMS (skip_prk_steps: true), as SD-1.5 configures it.');
    this.prediction = predictionTypeOf(c);
    if (this.prediction === 'sample') throw new PndmConfigError('PNDM takes epsilon or v_prediction models only (diffusers refuses prediction_type "sample" too).');
    this.alphasCumprod = alphasCumprod(c);
    this.finalAlpha = c.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
    this.stride = Math.floor(c.num_train_timesteps / steps);
    this.inferenceSteps = steps;
    const asc = spacedTimesteps(c, steps).reverse();
    const plms = asc.length < 2 ? asc : [...asc.slice(0, -1), asc[asc.length - 2]!, asc[asc.length - 1]!];
    this.timesteps = plms.reverse();
  }

  scaleModelInput(x: Float32Array): Float32Array {
    return x;
  }

  step(modelOutput: Float32Array, i: number, x: Float32Array): Float32Array {
    let t = this.timesteps[i]!;
    let prev = t - this.stride;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(modelOutput);
    } else {
      prev = t;
      t = t + this.stride;
    }
    const e = this.ets;
    const n = e.length;
    let eps: Float32Array;
    let sample = x;
    if (n === 1 && this.counter === 0) {
      eps = modelOutput;
      this.curSample = x;
    } else if (n === 1 && this.counter === 1) {
      eps = map(x.length, (k) => (modelOutput[k]! + e[0]![k]!) / 2);
      sample = this.curSample!;
      this.curSample = null;
    } else if (n === 2) eps = map(x.length, (k) => (3 * e[1]![k]! - e[0]![k]!) / 2);
    else if (n === 3) eps = map(x.length, (k) => (23 * e[2]![k]! - 16 * e[1]![k]! + 5 * e[0]![k]!) / 12);
    else eps = map(x.length, (k) => (55 * e[3]![k]! - 59 * e[2]![k]! + 37 * e[1]![k]! - 9 * e[0]![k]!) / 24);
    const out = this.prevSample(sample, t, prev, eps);
    this.counter++;
    return out;
  }

  /**
   * The same step as linear coefficients for the GPU loop (linear-step.ts), with `taken` as diffusers'
   * counter. The k-th stored model output (counter 0, 2, 3, …; counter 1's is never stored) lives in
   * history slot k mod 3, written after the step has read the slots (at counter ≥ 4 the slot it
   * overwrites holds the oldest output, which that step's combination still reads); counter 0's sample
   * lives in slot 3 for counter 1's re-step. With S the sample stepped from and E the combined output,
   * _get_prev_sample is x' = c·S − k·ε(E, S), and ε is E (epsilon) or √ᾱ E + √(1−ᾱ) S (v).
   */
  linearStep(i: number, taken: number): LinearStep {
    let t = this.timesteps[i]!;
    let prev = t - this.stride;
    if (taken === 1) {
      prev = t;
      t = t + this.stride;
    }
    const at = this.alphasCumprod[t]!;
    const ap = prev >= 0 ? this.alphasCumprod[prev]! : this.finalAlpha;
    const denom = at * Math.sqrt(1 - ap) + Math.sqrt(at * (1 - at) * ap);
    const k = (ap - at) / denom;
    const v = this.prediction === 'v_prediction';
    const onSample = Math.sqrt(ap / at) - (v ? k * Math.sqrt(1 - at) : 0);
    const onOutput = -k * (v ? Math.sqrt(at) : 1);
    const hist = [0, 0, 0, 0];
    if (taken === 0) {
      // ε = the output; keep it (the first stored output) and the sample for the re-step
      return { x: onSample, out: onOutput, hist: [], noise: 0, keep: [{ slot: 0, x: 0, out: 1 }, { slot: CUR_SAMPLE_SLOT, x: 1, out: 0 }] };
    }
    if (taken === 1) {
      // from counter 0's sample, with the mean of both outputs; nothing stored
      hist[0] = onOutput / 2;
      hist[CUR_SAMPLE_SLOT] = onSample;
      return { x: 0, out: onOutput / 2, hist, noise: 0 };
    }
    const stored = taken - 1; // outputs stored before this one: counters 0, 2, …, taken − 1
    const weights = PLMS_WEIGHTS[Math.min(taken, 4)]!;
    // weights[j] belongs to stored output stored − (weights.length − 1) + j; the last is this step's
    for (let j = 0; j < weights.length - 1; j++) hist[(stored - (weights.length - 1) + j) % ETS_SLOTS] = onOutput * weights[j]!;
    const keep: KeptSlot[] = [{ slot: stored % ETS_SLOTS, x: 0, out: 1 }];
    return { x: onSample, out: onOutput * weights[weights.length - 1]!, hist, noise: 0, keep };
  }

  private prevSample(x: Float32Array, t: number, prev: number, out: Float32Array): Float32Array {
    const at = this.alphasCumprod[t]!;
    const ap = prev >= 0 ? this.alphasCumprod[prev]! : this.finalAlpha;
    const bt = 1 - at;
    const bp = 1 - ap;
    // v-prediction → ε: ε = √ᾱ v + √(1−ᾱ) x (diffusers converts the combined output, not each stored one)
    const eps = this.prediction === 'v_prediction' ? map(x.length, (k) => Math.sqrt(at) * out[k]! + Math.sqrt(bt) * x[k]!) : out;
    const sampleCoeff = Math.sqrt(ap / at);
    const denom = at * Math.sqrt(bp) + Math.sqrt(at * bt * ap);
    return map(x.length, (k) => sampleCoeff * x[k]! - ((ap - at) * eps[k]!) / denom);
  }
}
