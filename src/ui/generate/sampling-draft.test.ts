// The Generate draft's advanced sampling fields: the range message, what is sent to the engine (the
// defaults send nothing but the DPM end), and what an image's parameters restore.
import { describe, expect, it } from 'vitest';
import { checkSamplingOptions } from '../../diffusion/sampling-options';
import { draftSamplingOptions, guidanceRescaleError, samplingDraftFrom } from './sampling-draft';
import { DEFAULT_DRAFT } from './generate-store';

describe('sampling draft', () => {
  it('accepts φ in [0, 1] only, like the engine', () => {
    for (const v of [0, 0.35, 1]) expect(guidanceRescaleError(v)).toBeNull();
    for (const v of [-0.05, 1.5, Number.NaN]) {
      expect(guidanceRescaleError(v)).toMatch(/0 \(off\) to 1/);
      expect(() => checkSamplingOptions(draftSamplingOptions({ ...DEFAULT_DRAFT, guidanceRescale: v }))).toThrow(/from 0 to 1/);
    }
  });

  it('sends the defaults as no rescale, the model’s zero-SNR setting and DPM++ ending at 0', () => {
    expect(draftSamplingOptions(DEFAULT_DRAFT)).toEqual({ dpmFinalSigma: 'zero' });
    expect(draftSamplingOptions({ guidanceRescale: 0.7, zeroTerminalSnr: 'off', dpmFinalSigma: 'sigma_min' })).toEqual({ guidanceRescale: 0.7, zeroTerminalSnr: false, dpmFinalSigma: 'sigma_min' });
    expect(draftSamplingOptions({ guidanceRescale: 0, zeroTerminalSnr: 'on', dpmFinalSigma: 'zero' }).zeroTerminalSnr).toBe(true);
  });

  it('restores an image’s options, and the defaults where its text has none', () => {
    const base = { prompt: '', negativePrompt: '', steps: 20, scheduler: 'euler' as const, guidanceScale: 5, seed: 1, width: 512, height: 512 };
    expect(samplingDraftFrom(base)).toEqual({ guidanceRescale: 0, zeroTerminalSnr: 'model', dpmFinalSigma: 'zero' });
    expect(samplingDraftFrom({ ...base, guidanceRescale: 0.5, zeroTerminalSnr: true, dpmFinalSigma: 'sigma_min' })).toEqual({ guidanceRescale: 0.5, zeroTerminalSnr: 'on', dpmFinalSigma: 'sigma_min' });
  });
});
