/**
 * EulerDiscreteScheduler (diffusers 0.25.1, s_churn = 0): Karras et al. 2022 Algorithm 2 without churn.
 * scale_model_input: x / sqrt(sigma^2 + 1); step: x0 from the model output by prediction_type
 * (epsilon: x0 = x - sigma*eps; prediction.ts), d = (x - x0)/sigma, x' = x + (sigma_next - sigma) * d.
 * Ancestral variant in euler-ancestral.ts shares the sigma table. With zero terminal SNR the table's
 * last alphas_cumprod is 2^-24 (common.ts sigmaAlphasCumprod), so the first sigma is ~4096, not inf.
 */
import { interpSigma, karrasSigmas, map, sigmaAlphasCumprod, sigmaToT, spacedTimesteps, trainSigmas, type Scheduler, type SchedulerConfig } from './common';
import { predictionTypeOf, veX0, type PredictionType } from './prediction';
import { veX0Form, type LinearStep, type LinearStepper } from './linear-step';

export interface SigmaSchedule {
  timesteps: number[];
  sigmas: number[];
  initNoiseSigma: number;
}

/** EulerDiscrete / EulerAncestral set_timesteps: sigmas = interp(t, sigma table) + [0]. */
export function eulerSchedule(c: SchedulerConfig, steps: number): SigmaSchedule {
  const table = trainSigmas(sigmaAlphasCumprod(c));
  let timesteps = spacedTimesteps(c, steps);
  let sigmas = timesteps.map((t) => Math.fround(interpSigma(table, t)));
  if (c.use_karras_sigmas) {
    const logs = table.map(Math.log);
    sigmas = karrasSigmas(sigmas[sigmas.length - 1]!, sigmas[0]!, steps).map(Math.fround);
    timesteps = sigmas.map((s) => sigmaToT(s, logs));
  }
  sigmas.push(0);
  const maxSigma = Math.max(...sigmas);
  // 'linspace'/'trailing' start from sigma_max; 'leading' uses sqrt(sigma_max^2 + 1) (diffusers init_noise_sigma).
  const spacing = c.timestep_spacing ?? 'leading';
  const initNoiseSigma = spacing === 'linspace' || spacing === 'trailing' ? maxSigma : Math.sqrt(maxSigma * maxSigma + 1);
  return { timesteps, sigmas, initNoiseSigma };
}

export function scaleBySigma(x: Float32Array, sigma: number): Float32Array {
  const s = Math.sqrt(sigma * sigma + 1);
  return map(x.length, (k) => x[k]! / s);
}

export class EulerDiscreteScheduler implements Scheduler, LinearStepper {
  readonly timesteps: number[];
  readonly sigmas: number[];
  readonly initNoiseSigma: number;
  /** pred_original_sample of the last step (debug / previews). */
  lastX0: Float32Array | null = null;
  private readonly prediction: PredictionType;

  constructor(c: SchedulerConfig, steps: number) {
    this.prediction = predictionTypeOf(c);
    ({ timesteps: this.timesteps, sigmas: this.sigmas, initNoiseSigma: this.initNoiseSigma } = eulerSchedule(c, steps));
  }

  scaleModelInput(x: Float32Array, i: number): Float32Array {
    return scaleBySigma(x, this.sigmas[i]!);
  }

  step(modelOutput: Float32Array, i: number, x: Float32Array): Float32Array {
    const sigma = this.sigmas[i]!;
    const dt = this.sigmas[i + 1]! - sigma;
    const x0 = veX0(this.prediction, x, modelOutput, sigma);
    this.lastX0 = x0;
    return map(x.length, (k) => x[k]! + ((x[k]! - x0[k]!) / sigma) * dt);
  }

  /** step() as coefficients (linear-step.ts): x' = x + (dt/s)(x − x₀). */
  linearStep(i: number): LinearStep {
    return eulerLinear(veX0Form(this.prediction, this.sigmas[i]!), this.sigmas[i]!, this.sigmas[i + 1]! - this.sigmas[i]!, 0);
  }
}

/** x' = x + (dt/s)(x − x₀) + up·z with x₀ = f.x·x + f.out·out (Euler and Euler a). */
export function eulerLinear(f: { x: number; out: number }, sigma: number, dt: number, up: number): LinearStep {
  const r = dt / sigma;
  return { x: 1 + r * (1 - f.x), out: -r * f.out, hist: [], noise: up };
}
