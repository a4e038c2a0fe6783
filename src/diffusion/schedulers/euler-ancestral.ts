/**
 * EulerAncestralDiscreteScheduler (diffusers 0.25.1; k-diffusion sample_euler_ancestral, eta 1):
 * sigma_up = sqrt(s1^2 (s0^2 - s1^2) / s0^2), sigma_down = sqrt(s1^2 - sigma_up^2);
 * x' = x + (sigma_down - s0) * (x - x0)/s0 + noise * sigma_up. The caller supplies the noise
 * (randn of x's shape) so that runs are reproducible and testable.
 */
import { map, type Scheduler, type SchedulerConfig } from './common';
import { eulerSchedule, scaleBySigma } from './euler';

export class EulerAncestralScheduler implements Scheduler {
  readonly timesteps: number[];
  readonly sigmas: number[];
  readonly initNoiseSigma: number;
  lastX0: Float32Array | null = null;

  constructor(c: SchedulerConfig, steps: number) {
    ({ timesteps: this.timesteps, sigmas: this.sigmas, initNoiseSigma: this.initNoiseSigma } = eulerSchedule(c, steps));
  }

  scaleModelInput(x: Float32Array, i: number): Float32Array {
    return scaleBySigma(x, this.sigmas[i]!);
  }

  step(eps: Float32Array, i: number, x: Float32Array, noise?: Float32Array): Float32Array {
    if (!noise || noise.length !== x.length) throw new Error('EulerAncestral.step needs noise of the latent size');
    const s0 = this.sigmas[i]!;
    const s1 = this.sigmas[i + 1]!;
    const up = Math.sqrt((s1 * s1 * (s0 * s0 - s1 * s1)) / (s0 * s0));
    const down = Math.sqrt(s1 * s1 - up * up);
    const dt = down - s0;
    const x0 = map(x.length, (k) => x[k]! - s0 * eps[k]!);
    this.lastX0 = x0;
    return map(x.length, (k) => x[k]! + ((x[k]! - x0[k]!) / s0) * dt + noise[k]! * up);
  }
}
