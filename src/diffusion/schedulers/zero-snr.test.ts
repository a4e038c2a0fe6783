// Zero terminal SNR (issue 12, point 3) against a plain float64 derivation of Lin et al. 2024,
// Algorithm 1, as diffusers writes it in scheduling_ddim.py `rescale_zero_terminal_snr`:
//   alphas_bar_sqrt = cumprod(1 - betas).sqrt(); alphas_bar_sqrt -= last; alphas_bar_sqrt *= first / (first - last)
//   alphas_bar = alphas_bar_sqrt**2; alphas = alphas_bar[1:] / alphas_bar[:-1] (alphas_bar[0] first); betas = 1 - alphas
// and the sigma schedulers' `self.alphas_cumprod[-1] = 2**-24` (scheduling_euler_discrete.py __init__).
import { describe, expect, it } from 'vitest';
import { alphasCumprod, sigmaAlphasCumprod, type SchedulerConfig } from './common';
import { createScheduler, SCHEDULER_KINDS } from './index';
import { DDIMScheduler } from './ddim';
import { samplingSchedulerConfig } from '../sampling-options';

const SDXL: SchedulerConfig = {
  num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  steps_offset: 1, timestep_spacing: 'leading', set_alpha_to_one: false,
};
const ZSNR: SchedulerConfig = { ...SDXL, rescale_betas_zero_snr: true };

/** Algorithm 1 in float64, from the scaled_linear betas. */
function referenceAlphasCumprod(c: SchedulerConfig): number[] {
  const n = c.num_train_timesteps;
  const lo = Math.sqrt(c.beta_start);
  const hi = Math.sqrt(c.beta_end);
  const betas = Array.from({ length: n }, (_, i) => (lo + ((hi - lo) * i) / (n - 1)) ** 2);
  let p = 1;
  const sqrtAbar = betas.map((b) => Math.sqrt((p *= 1 - b)));
  const first = sqrtAbar[0]!;
  const last = sqrtAbar[n - 1]!;
  const abar = sqrtAbar.map((s) => ((s - last) * first) / (first - last)).map((s) => s * s);
  const alphas = abar.map((a, i) => (i === 0 ? a : a / abar[i - 1]!));
  let q = 1;
  return alphas.map((a) => (q *= a));
}

describe('rescale_betas_zero_snr', () => {
  it('alphas_cumprod follows Algorithm 1: last exactly 0, first unchanged', () => {
    const got = alphasCumprod(ZSNR);
    const want = referenceAlphasCumprod(ZSNR);
    const plain = alphasCumprod(SDXL);
    expect(got[999]).toBe(0);
    // first unchanged within float32 rounding (2 ulps below 1: diffusers rounds every op to f32 too)
    expect(Math.abs(got[0]! - plain[0]!)).toBeLessThanOrEqual(2 ** -23);
    let worst = 0;
    for (let i = 0; i < 1000; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(2e-6);
    // and it really changed the schedule: plain SDXL ends at ᾱ ≈ 0.0047 (SNR ≠ 0)
    expect(plain[999]).toBeGreaterThan(4e-3);
  });

  it('Euler / Euler a / DPM-Solver: the last alphas_cumprod is 2^-24, so sigma_max ≈ 4096 (finite)', () => {
    const ac = sigmaAlphasCumprod(ZSNR);
    expect(ac[999]).toBe(2 ** -24);
    expect(sigmaAlphasCumprod(SDXL)[999]).toBe(alphasCumprod(SDXL)[999]);
    const trailing = { ...ZSNR, timestep_spacing: 'trailing' as const };
    const sigmaMax = Math.sqrt((1 - 2 ** -24) / 2 ** -24);
    for (const kind of ['euler', 'euler_ancestral', 'dpmpp_2m'] as const) {
      const s = createScheduler(kind, trailing, 10);
      expect(s.timesteps[0]).toBe(999);
      expect(s.sigmas![0]! / sigmaMax).toBeCloseTo(1, 6);
    }
    // 'trailing' Euler starts from sigma_max itself (diffusers init_noise_sigma)
    expect(createScheduler('euler', trailing, 10).initNoiseSigma / sigmaMax).toBeCloseTo(1, 6);
  });

  it('DDIM keeps ᾱ_T = 0; with v_prediction its first step takes x0 = -v and eps = x (scheduling_ddim.py step)', () => {
    const s = createScheduler('ddim', { ...ZSNR, timestep_spacing: 'trailing', prediction_type: 'v_prediction' }, 10) as DDIMScheduler;
    expect(s.timesteps[0]).toBe(999);
    expect(s.alphasCumprod[999]).toBe(0);
    const x = Float32Array.from([1.5, -0.25, 3, 0.5]);
    const v = Float32Array.from([0.2, -1, 0.4, 2]);
    const next = s.step(v, 0, x);
    expect(Array.from(s.lastX0!)).toEqual(Array.from(v, (e) => -e));
    // x' = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps with eps = x
    const ap = s.alphasCumprod[999 - 100]!;
    const want = Array.from(x, (xk, k) => Math.sqrt(ap) * -v[k]! + Math.sqrt(1 - ap) * xk);
    Array.from(next).forEach((got, k) => expect(got).toBeCloseTo(want[k]!, 6));
  });

  it('every sampler honours the config flag, and the user override turns it on or off', () => {
    for (const kind of SCHEDULER_KINDS) {
      const plain = createScheduler(kind, { ...SDXL, timestep_spacing: 'trailing' }, 8);
      const zero = createScheduler(kind, samplingSchedulerConfig(SDXL, { zeroTerminalSnr: true }), 8);
      const off = createScheduler(kind, samplingSchedulerConfig(ZSNR, { zeroTerminalSnr: false }), 8);
      if (plain.sigmas) {
        expect(createScheduler(kind, { ...ZSNR, timestep_spacing: 'trailing' }, 8).sigmas![0]).toBeGreaterThan(4000);
        expect(plain.sigmas[0]).toBeLessThan(20);
        expect(off.sigmas).toEqual(createScheduler(kind, SDXL, 8).sigmas);
        expect(zero.sigmas).toEqual(createScheduler(kind, ZSNR, 8).sigmas);
      } else {
        expect((zero as DDIMScheduler).alphasCumprod[999]).toBe(0);
        expect((off as DDIMScheduler).alphasCumprod[999]).toBeGreaterThan(4e-3);
      }
    }
  });
});
