// The GPU loop's step coefficients (linear-step.ts) against the host schedulers they come from: for
// every sampler the GPU path runs × every prediction type × zero terminal SNR on and off, applying the
// coefficients to the host run's own latents gives the host step's result at every step, including
// a run that starts part-way (image to image: DPM++ 2M's first step taken is first order there too,
// and PNDM's counter starts again at 0). 11 steps take PNDM through every PLMS order and round its
// three-slot ring of stored outputs more than once.
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from './common';
import { createScheduler, type SchedulerKind } from './index';
import { PREDICTION_TYPES } from './prediction';
import { applyLinearStep, HIST_SLOTS, isLinearStepper } from './linear-step';
import { SAMPLER_HIST_SLOTS } from '../../ops/sampler-step';

const SDXL: SchedulerConfig = {
  num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  steps_offset: 1, timestep_spacing: 'leading', set_alpha_to_one: false,
};
const GPU_KINDS: SchedulerKind[] = ['euler', 'euler_ancestral', 'ddim', 'dpmpp_2m', 'dpmpp_2m_karras', 'pndm'];

function vec(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Float32Array.from({ length: n }, () => (u() + u() + u() + u() - 2) * 1.7);
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 1e-3;
  for (let k = 0; k < a.length; k++) {
    d = Math.max(d, Math.abs(a[k]! - b[k]!));
    m = Math.max(m, Math.abs(b[k]!));
  }
  return d / m;
}

describe('linear scheduler steps equal the host steps', () => {
  it('use no more history slots than the GPU step kernel holds', () => {
    expect(HIST_SLOTS).toBe(SAMPLER_HIST_SLOTS);
  });

  for (const kind of GPU_KINDS)
    // PNDM refuses 'sample', as diffusers does (pndm.test.ts)
    for (const prediction_type of PREDICTION_TYPES.filter((t) => kind !== 'pndm' || t !== 'sample'))
      for (const zeroSnr of [false, true])
        for (const start of [0, 4])
          it(`${kind} ${prediction_type}${zeroSnr ? ' zero-SNR' : ''} from step ${start}`, () => {
            const config: SchedulerConfig = { ...SDXL, prediction_type, ...(zeroSnr ? { rescale_betas_zero_snr: true, timestep_spacing: 'trailing' as const } : {}) };
            const s = createScheduler(kind, config, 11);
            expect(isLinearStepper(s)).toBe(true);
            if (!isLinearStepper(s)) return;
            const n = 37; // odd, not a multiple of any tile
            let x: Float32Array = vec(n, 1).map((v) => v * s.initNoiseSigma);
            let hist: (Float32Array | undefined)[] = [];
            for (let i = start; i < s.timesteps.length; i++) {
              const out = vec(n, 100 + i);
              const noise = kind === 'euler_ancestral' ? vec(n, 200 + i) : undefined;
              const c = s.linearStep(i, i - start);
              const ours = applyLinearStep(c, x, out, hist, noise);
              const host = s.step(out, i, x, noise);
              if (!host.every(Number.isFinite)) {
                // DDIM ε at ᾱ_T = 0 divides by √ᾱ = 0 (as diffusers does): both sides must be non-finite
                expect(ours.next.every(Number.isFinite)).toBe(false);
                break;
              }
              expect(maxRel(ours.next, host), `step ${i}`).toBeLessThan(2e-5);
              hist = ours.hist;
              x = host;
            }
          });
});
