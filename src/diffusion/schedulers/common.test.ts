import { describe, expect, it } from 'vitest';
import { karrasSigmas, spacedTimesteps, type SchedulerConfig } from './common';
import { createScheduler } from './index';

const SDXL: SchedulerConfig = {
  num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  steps_offset: 1, timestep_spacing: 'leading', prediction_type: 'epsilon', set_alpha_to_one: false,
};

describe('timestep spacing and sigmas', () => {
  it("'leading' 30 steps: ratio 33 +1 (Euler/DDIM) and ratio 32 (DPM-Solver), as golden/README.md lists", () => {
    const t = spacedTimesteps(SDXL, 30);
    expect(t.slice(0, 3)).toEqual([958, 925, 892]);
    expect(t.slice(-3)).toEqual([67, 34, 1]);
    const d = spacedTimesteps(SDXL, 30, true);
    expect(d.slice(0, 3)).toEqual([961, 929, 897]);
    expect(d.slice(-2)).toEqual([65, 33]);
  });
  it('Karras sigmas run from sigma_max to sigma_min monotonically', () => {
    const s = karrasSigmas(0.03, 14.6, 10);
    expect(s[0]).toBeCloseTo(14.6, 10);
    expect(s[9]).toBeCloseTo(0.03, 10);
    for (let i = 1; i < s.length; i++) expect(s[i]!).toBeLessThan(s[i - 1]!);
  });
  it('Euler init_noise_sigma is sqrt(sigma_max^2 + 1) and the last sigma 0', () => {
    const s = createScheduler('euler', SDXL, 30);
    expect(s.initNoiseSigma).toBeCloseTo(11.520333, 4);
    expect(s.sigmas!.at(-1)).toBe(0);
    expect(s.sigmas!.length).toBe(31);
  });
  it('EulerAncestral refuses to step without noise; bad step counts are refused', () => {
    const s = createScheduler('euler_ancestral', SDXL, 5);
    const x = new Float32Array(4);
    expect(() => s.step(x, 0, x)).toThrow(/noise/);
    expect(() => createScheduler('ddim', SDXL, 0)).toThrow(RangeError);
  });
  it("DPM-Solver final sigma: sigma(0) with 'sigma_min' (0.25.1), 0 with 'zero' and by default", () => {
    expect(createScheduler('dpmpp_2m', { ...SDXL, final_sigmas_type: 'sigma_min' }, 30).sigmas!.at(-1)).toBeCloseTo(0.029168, 5);
    expect(createScheduler('dpmpp_2m', { ...SDXL, final_sigmas_type: 'zero' }, 30).sigmas!.at(-1)).toBe(0);
    expect(createScheduler('dpmpp_2m', SDXL, 30).sigmas!.at(-1)).toBe(0);
  });
});
