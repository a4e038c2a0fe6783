// DPM++ 2M's end (issue 12, point 3): final_sigmas_type 'zero' (the studio's default) against
// 'sigma_min' (diffusers 0.25.1). Reference: diffusers scheduling_dpmsolver_multistep.py —
//   set_timesteps: sigma_last = 0 ('zero') or ((1 - alphas_cumprod[0]) / alphas_cumprod[0]) ** 0.5 ('sigma_min');
//   step: lower_order_final = last step and (... or final_sigmas_type == "zero") → dpm_solver_first_order_update,
//   which for dpmsolver++ is x_t = (sigma_t / sigma_s) x - alpha_t (exp(-h) - 1) x0; at sigma_t = 0
//   (alpha_t = 1, lambda_t = +inf, exp(-h) = 0) that is x0 itself;
//   multistep_dpm_solver_second_order_update (midpoint): x_t = (sigma_t / sigma_s0) x
//   - alpha_t (exp(-h) - 1) D0 - 0.5 alpha_t (exp(-h) - 1) D1, D0 = m0, D1 = (m0 - m1) / r0, r0 = h_0 / h.
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from './common';
import { createScheduler } from './index';

const SDXL: SchedulerConfig = {
  num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  steps_offset: 1, timestep_spacing: 'leading', set_alpha_to_one: false,
};

function vec(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Float32Array.from({ length: n }, () => (u() + u() + u() + u() - 2) * 1.7);
}

/** alpha_t, sigma_t and lambda_t of the VP view at VE noise level `sig` (_sigma_to_alpha_sigma_t). */
const vp = (sig: number) => {
  const a = 1 / Math.sqrt(sig * sig + 1);
  return { a, s: sig * a, lambda: Math.log(a) - Math.log(sig * a) };
};

/** Runs all steps with eps_i = vec(·, 100 + i); returns the state before the last step and the outputs. */
function run(kind: 'dpmpp_2m' | 'dpmpp_2m_karras', c: SchedulerConfig, steps: number) {
  const s = createScheduler(kind, c, steps);
  let x = vec(16, 3);
  const states: Float32Array[] = [x];
  for (let i = 0; i < s.timesteps.length; i++) {
    x = s.step(vec(16, 100 + i), i, x);
    states.push(x);
  }
  return { s, states };
}

describe('DPM++ 2M final sigma', () => {
  for (const kind of ['dpmpp_2m', 'dpmpp_2m_karras'] as const) {
    it(`${kind}: 'zero' ends with the denoised x0 of the last model output exactly`, () => {
      // 20 steps (≥ 15): without 'zero' the last step would be second order
      const { s, states } = run(kind, { ...SDXL, final_sigmas_type: 'zero' }, 20);
      const n = s.timesteps.length;
      expect(s.sigmas!.at(-1)).toBe(0);
      const x = states[n - 1]!;
      const eps = vec(16, 100 + n - 1);
      const { a, s: sg } = vp(s.sigmas![n - 1]!);
      const x0 = Array.from(x, (xk, k) => (xk - sg * eps[k]!) / a);
      Array.from(states[n]!).forEach((got, k) => expect(got).toBeCloseTo(x0[k]!, 5));
    });

    it(`${kind}: 'sigma_min' (0.25.1) keeps the second-order last step to sigma(0), and both agree before it`, () => {
      const zero = run(kind, { ...SDXL, final_sigmas_type: 'zero' }, 20);
      const min = run(kind, { ...SDXL, final_sigmas_type: 'sigma_min' }, 20);
      const n = min.s.timesteps.length;
      for (let i = 0; i < n; i++) expect(Array.from(min.states[i]!)).toEqual(Array.from(zero.states[i]!));
      const sig = min.s.sigmas!;
      const [t, s0, s1] = [vp(sig[n]!), vp(sig[n - 1]!), vp(sig[n - 2]!)];
      const x = min.states[n - 1]!;
      const xPrev = min.states[n - 2]!;
      const e0 = vec(16, 100 + n - 1);
      const e1 = vec(16, 100 + n - 2);
      const h = t.lambda - s0.lambda;
      const r0 = (s0.lambda - s1.lambda) / h;
      const phi = t.a * (Math.exp(-h) - 1);
      const want = Array.from(x, (xk, k) => {
        const m0 = (xk - s0.s * e0[k]!) / s0.a;
        const m1 = (xPrev[k]! - s1.s * e1[k]!) / s1.a;
        return (t.s / s0.s) * xk - phi * m0 - 0.5 * phi * ((m0 - m1) / r0);
      });
      Array.from(min.states[n]!).forEach((got, k) => expect(got).toBeCloseTo(want[k]!, 5));
      expect(sig[n]).toBeGreaterThan(0.02);
    });
  }
});
