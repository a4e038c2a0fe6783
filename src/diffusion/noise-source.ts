/**
 * Where a run's Gaussian noise comes from (issue 12, point 5): the studio's own streams (rng.ts, the
 * default: each step's noise independent of the others) or torch's CPU generator (torch-rng.ts), which
 * reproduces ComfyUI's default noise and A1111's "RNG source: CPU" bit for bit.
 *
 * With torch, one generator seeded once serves the whole run in diffusers' order
 * (StableDiffusionXLPipeline.prepare_latents, then EulerAncestralDiscreteScheduler.step): the initial
 * latents first, then each ancestral step's randn of the latent shape — so `step` must be called once
 * per step, in order, as the sampling loop does.
 */
import { initialNoise, stepNoise } from './rng';
import { TorchGenerator, torchRandn } from './torch-rng';

export type NoiseSource = 'studio' | 'torch-cpu';

export const NOISE_SOURCES: readonly NoiseSource[] = ['studio', 'torch-cpu'];

export interface RunNoise {
  /** x_T ~ N(0, I), n values (before init_noise_sigma). */
  initial(n: number): Float32Array;
  /** The fresh noise of ancestral step `step` (0-based), n values. */
  step(step: number, n: number): Float32Array;
}

/** The noise for one run of `seed`. Refuses an unknown source by name (a hand-edited draft or PNG). */
export function runNoise(source: NoiseSource, seed: number): RunNoise {
  if (source === 'studio') return { initial: (n) => initialNoise(seed, n), step: (i, n) => stepNoise(seed, i, n) };
  if (source === 'torch-cpu') {
    const gen = new TorchGenerator(seed);
    let next = 0;
    return {
      initial: (n) => torchRandn(gen, n),
      step: (i, n) => {
        // the stream has no per-step offsets: a skipped or repeated step would silently shift all later noise
        if (i !== next) throw new RangeError(`torch-cpu noise: step ${i} requested, expected step ${next} (steps draw in order)`);
        next++;
        return torchRandn(gen, n);
      },
    };
  }
  throw new RangeError(`unknown noise source "${String(source)}" (expected ${NOISE_SOURCES.join(' or ')})`);
}
