// prediction_type for every sampler (issue 12, point 3). The reference is the definition of the three
// parameterisations on a sample at noise level (alpha, sigma): x_t = alpha x0 + sigma eps, and
// v = alpha eps - sigma x0 (diffusers DDPMScheduler.get_velocity: `sqrt_alpha_prod * noise -
// sqrt_one_minus_alpha_prod * sample`). Fed v (or x0) built from the epsilon run's own x0 and eps, a
// v_prediction (or sample) scheduler must follow the epsilon scheduler's trajectory step for step.
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from './common';
import { createScheduler, SCHEDULER_KINDS, type SchedulerKind } from './index';
import { SchedulerConfigError, type PredictionType } from './prediction';
import { DDIMScheduler } from './ddim';

const SDXL: SchedulerConfig = {
  num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  steps_offset: 1, timestep_spacing: 'leading', set_alpha_to_one: false,
};

/** A reproducible pseudo-random vector (LCG), N(0,1)-ish via the sum of 4 uniforms. */
function vec(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Float32Array.from({ length: n }, () => (u() + u() + u() + u() - 2) * 1.7);
}

/** (alpha, sigma) of step i's latents in the VP view (the Euler latents are x_vp * sqrt(s^2+1)). */
function levels(kind: SchedulerKind, s: ReturnType<typeof createScheduler>, i: number): { a: number; sg: number; ve: boolean } {
  if (s instanceof DDIMScheduler) {
    const ab = s.alphasCumprod[s.timesteps[i]!]!;
    return { a: Math.sqrt(ab), sg: Math.sqrt(1 - ab), ve: false };
  }
  const sig = s.sigmas![i]!;
  const a = 1 / Math.sqrt(sig * sig + 1);
  return { a, sg: sig * a, ve: kind === 'euler' || kind === 'euler_ancestral' };
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    d = Math.max(d, Math.abs(a[k]! - b[k]!));
    m = Math.max(m, Math.abs(b[k]!));
  }
  return d / m;
}

describe('prediction_type', () => {
  const n = 24;
  const steps = 12;
  // PNDM is left out: diffusers' PLMS combines the raw model outputs of past steps before converting a
  // v-prediction to ε (so it follows ε's trajectory only at first order), and refuses 'sample' (pndm.test.ts)
  for (const kind of SCHEDULER_KINDS.filter((k) => k !== 'pndm')) {
    for (const type of ['v_prediction', 'sample'] as PredictionType[]) {
      it(`${kind}: '${type}' follows the epsilon trajectory when given the same x0`, () => {
        const ref = createScheduler(kind, { ...SDXL, prediction_type: 'epsilon' }, steps);
        const other = createScheduler(kind, { ...SDXL, prediction_type: type }, steps);
        let x: Float32Array = vec(n, 1).map((v) => v * ref.initNoiseSigma);
        let y: Float32Array = Float32Array.from(x);
        for (let i = 0; i < ref.timesteps.length; i++) {
          const eps = vec(n, 100 + i);
          const { a, sg, ve } = levels(kind, ref, i);
          // x0 implied by eps: VE x = x0 + (sg/a) eps; VP x = a x0 + sg eps
          const x0 = ve ? x.map((v, k) => v - (sg / a) * eps[k]!) : x.map((v, k) => (v - sg * eps[k]!) / a);
          const out = type === 'sample' ? x0 : eps.map((e, k) => a * e - sg * x0[k]!);
          const noise = kind === 'euler_ancestral' ? vec(n, 500 + i) : undefined;
          x = ref.step(eps, i, x, noise);
          y = other.step(out, i, y, noise);
          expect(maxRel(y, x), `step ${i}`).toBeLessThan(2e-5);
          const last = (other as { lastX0?: Float32Array | null }).lastX0;
          if (last) expect(maxRel(last, x0), `x0 at step ${i}`).toBeLessThan(2e-5);
        }
      });
    }
  }

  it("Euler v_prediction: x0 = v * (-sigma/sqrt(sigma^2+1)) + x/(sigma^2+1) (scheduling_euler_discrete.py step)", () => {
    const s = createScheduler('euler', { ...SDXL, prediction_type: 'v_prediction' }, 10) as { lastX0: Float32Array | null } & ReturnType<typeof createScheduler>;
    const x = vec(8, 7).map((v) => v * 10);
    const v = vec(8, 8);
    s.step(v, 0, x);
    const sig = s.sigmas![0]!;
    const want = x.map((xk, k) => v[k]! * (-sig / Math.sqrt(sig ** 2 + 1)) + xk / (sig ** 2 + 1));
    expect(maxRel(s.lastX0!, want)).toBeLessThan(1e-6);
  });

  it('refuses an unknown prediction_type by name for every sampler', () => {
    for (const kind of SCHEDULER_KINDS) {
      expect(() => createScheduler(kind, { ...SDXL, prediction_type: 'flow_prediction' }, 10)).toThrow(SchedulerConfigError);
    }
    try {
      createScheduler('euler', { ...SDXL, prediction_type: 'v-pred' }, 10);
      expect.unreachable();
    } catch (e) {
      expect((e as SchedulerConfigError).code).toBe('bad-scheduler-config');
      expect((e as Error).message).toMatch(/prediction_type "v-pred".*epsilon, v_prediction, sample/);
    }
  });

  it('refuses an unknown final_sigmas_type by name', () => {
    expect(() => createScheduler('dpmpp_2m', { ...SDXL, final_sigmas_type: 'min' }, 10)).toThrow(/final_sigmas_type "min"/);
  });
});
