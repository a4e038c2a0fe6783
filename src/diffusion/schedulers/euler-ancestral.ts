/**
 * EulerAncestralDiscreteScheduler (diffusers 0.25.1; k-diffusion sample_euler_ancestral, eta 1):
 * sigma_up = sqrt(s1^2 (s0^2 - s1^2) / s0^2), sigma_down = sqrt(s1^2 - sigma_up^2);
 * x' = x + (sigma_down - s0) * (x - x0)/s0 + noise * sigma_up. The caller supplies the noise
 * (randn of x's shape) so that runs are reproducible and testable. x0 follows prediction_type as in
 * Euler (prediction.ts); diffusers raises NotImplementedError for 'sample' here, the studio takes
 * x0 = model output as Euler does.
 */
import { map, type Scheduler, type SchedulerConfig } from './common';
import { eulerLinear, eulerSchedule, scaleBySigma } from './euler';
import { veX0Form, type LinearStep, type LinearStepper } from './linear-step';
import { predictionTypeOf, veX0, type PredictionType } from './prediction';

export class EulerAncestralScheduler implements Scheduler, LinearStepper {
  readonly timesteps: number[];
  readonly sigmas: number[];
  readonly initNoiseSigma: number;
  lastX0: Float32Array | null = null;
  private readonly prediction: PredictionType;

  constructor(c: SchedulerConfig, steps: number) {
    this.prediction = predictionTypeOf(c);
    ({ timesteps: this.timesteps, sigmas: this.sigmas, initNoiseSigma: this.initNoiseSigma } = eulerSchedule(c, steps));
  }

  scaleModelInput(x: Float32Array, i: number): Float32Array {
    return scaleBySigma(x, this.sigmas[i]!);
  }

  /** sigma_up and sigma_down of step i (k-diffusion get_ancestral_step, eta 1). */
  private upDown(i: number): { s0: number; up: number; dt: number } {
    const s0 = this.sigmas[i]!;
    const s1 = this.sigmas[i + 1]!;
    const up = Math.sqrt((s1 * s1 * (s0 * s0 - s1 * s1)) / (s0 * s0));
    const down = Math.sqrt(s1 * s1 - up * up);
    return { s0, up, dt: down - s0 };
  }

  /** step() as coefficients (linear-step.ts); the caller supplies the noise as step() takes it. */
  linearStep(i: number): LinearStep {
    const { s0, up, dt } = this.upDown(i);
    return eulerLinear(veX0Form(this.prediction, s0), s0, dt, up);
  }

  step(modelOutput: Float32Array, i: number, x: Float32Array, noise?: Float32Array): Float32Array {
    if (!noise || noise.length !== x.length) throw new Error('EulerAncestral.step needs noise of the latent size');
    const { s0, up, dt } = this.upDown(i);
    const x0 = veX0(this.prediction, x, modelOutput, s0);
    this.lastX0 = x0;
    return map(x.length, (k) => x[k]! + ((x[k]! - x0[k]!) / s0) * dt + noise[k]! * up);
  }
}
