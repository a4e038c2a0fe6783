/**
 * DDIMScheduler (diffusers 0.25.1; Song et al. 2021 eq. 12) with eta = 0 (deterministic):
 * x0 = (x - sqrt(1 - a_t) eps) / sqrt(a_t); x' = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps, where
 * a_prev = alphas_cumprod[t - N//steps], or final_alpha_cumprod (1 if set_alpha_to_one, else
 * alphas_cumprod[0]) past the start. scale_model_input is the identity, init_noise_sigma 1.
 * x0 and eps come from the model output by prediction_type (diffusers scheduling_ddim.py step,
 * "2. compute predicted original sample"); with zero terminal SNR a_T is exactly 0 here (no 2^-24:
 * DDIM never divides by sigma, and v_prediction at a_T = 0 gives x0 = -v, eps = x).
 */
import { alphasCumprod, map, spacedTimesteps, type Scheduler, type SchedulerConfig } from './common';
import { predictionTypeOf, type PredictionType } from './prediction';
import { vpEpsForm, vpX0Form, type LinearStep, type LinearStepper } from './linear-step';

export class DDIMScheduler implements Scheduler, LinearStepper {
  readonly timesteps: number[];
  readonly initNoiseSigma = 1;
  readonly alphasCumprod: Float64Array;
  private readonly finalAlpha: number;
  private readonly stride: number;
  private readonly prediction: PredictionType;
  lastX0: Float32Array | null = null;

  constructor(c: SchedulerConfig, steps: number) {
    this.prediction = predictionTypeOf(c);
    this.alphasCumprod = alphasCumprod(c);
    this.finalAlpha = c.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
    this.timesteps = spacedTimesteps(c, steps);
    this.stride = Math.floor(c.num_train_timesteps / steps);
  }

  scaleModelInput(x: Float32Array): Float32Array {
    return x;
  }

  /** ᾱ_t and ᾱ_prev of step i. */
  private alphas(i: number): { at: number; ap: number } {
    const t = this.timesteps[i]!;
    const prev = t - this.stride;
    return { at: this.alphasCumprod[t]!, ap: prev >= 0 ? this.alphasCumprod[prev]! : this.finalAlpha };
  }

  /** step() as coefficients (linear-step.ts): x' = √ᾱ_prev x₀ + √(1−ᾱ_prev) ε. */
  linearStep(i: number): LinearStep {
    const { at, ap } = this.alphas(i);
    const x0 = vpX0Form(this.prediction, Math.sqrt(at), Math.sqrt(1 - at));
    const eps = vpEpsForm(this.prediction, Math.sqrt(at), Math.sqrt(1 - at));
    const [sp, dir] = [Math.sqrt(ap), Math.sqrt(1 - ap)];
    return { x: sp * x0.x + dir * eps.x, out: sp * x0.out + dir * eps.out, hist: [], noise: 0 };
  }

  step(modelOutput: Float32Array, i: number, x: Float32Array): Float32Array {
    const { at, ap } = this.alphas(i);
    const sa = Math.sqrt(at);
    const sb = Math.sqrt(1 - at);
    const { x0, eps } = this.split(modelOutput, x, sa, sb);
    this.lastX0 = x0;
    const sp = Math.sqrt(ap);
    const dir = Math.sqrt(1 - ap);
    return map(x.length, (k) => sp * x0[k]! + dir * eps[k]!);
  }

  /** (x0, eps) from the model output: epsilon, sample or v_prediction (x_t = sa x0 + sb eps, v = sa eps - sb x0). */
  private split(out: Float32Array, x: Float32Array, sa: number, sb: number): { x0: Float32Array; eps: Float32Array } {
    if (this.prediction === 'sample') return { x0: out, eps: map(x.length, (k) => (x[k]! - sa * out[k]!) / sb) };
    if (this.prediction === 'v_prediction') {
      return { x0: map(x.length, (k) => sa * x[k]! - sb * out[k]!), eps: map(x.length, (k) => sa * out[k]! + sb * x[k]!) };
    }
    return { x0: map(x.length, (k) => (x[k]! - sb * out[k]!) / sa), eps: out };
  }
}
