// The person's sampling options (issue 12, point 3): range checks with a named error, and the
// overrides folded into the scheduler config (absent options leave the model's config as it is).
import { describe, expect, it } from 'vitest';
import { checkSamplingOptions, samplingSchedulerConfig, SamplingOptionError } from './sampling-options';
import type { SchedulerConfig } from './schedulers';

const SDXL: SchedulerConfig = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' };

describe('sampling options', () => {
  it('guidance rescale must be in [0, 1]', () => {
    for (const ok of [0, 0.7, 1]) expect(() => checkSamplingOptions({ guidanceRescale: ok })).not.toThrow();
    for (const bad of [-0.1, 1.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      try {
        checkSamplingOptions({ guidanceRescale: bad });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(SamplingOptionError);
        expect((e as SamplingOptionError).code).toBe('bad-sampling-option');
        expect((e as SamplingOptionError).option).toBe('guidanceRescale');
        expect((e as Error).message).toMatch(/from 0 to 1/);
      }
    }
  });

  it('refuses an unknown DPM final sigma or a non-boolean zero-SNR switch', () => {
    expect(() => checkSamplingOptions({ dpmFinalSigma: 'min' as 'zero' })).toThrow(SamplingOptionError);
    expect(() => checkSamplingOptions({ zeroTerminalSnr: 'yes' as unknown as boolean })).toThrow(SamplingOptionError);
  });

  it('folds the overrides into the config and leaves it alone without them', () => {
    expect(samplingSchedulerConfig(SDXL, {})).toEqual(SDXL);
    expect(samplingSchedulerConfig({ ...SDXL, rescale_betas_zero_snr: true }, { guidanceRescale: 0.5 }).rescale_betas_zero_snr).toBe(true);
    expect(samplingSchedulerConfig({ ...SDXL, rescale_betas_zero_snr: true }, { zeroTerminalSnr: false }).rescale_betas_zero_snr).toBe(false);
    expect(samplingSchedulerConfig(SDXL, { zeroTerminalSnr: true, dpmFinalSigma: 'sigma_min' })).toEqual({ ...SDXL, rescale_betas_zero_snr: true, final_sigmas_type: 'sigma_min' });
    expect(() => samplingSchedulerConfig(SDXL, { guidanceRescale: 2 })).toThrow(SamplingOptionError);
  });
});
