// The sampling options in the PNG `parameters` text (issue 12, point 3), with the keys other tools use:
// "CFG Rescale" (A1111's CFG-rescale extension, which still reads its older "CFG Rescale phi") and
// "Noise Schedule: Zero Terminal SNR" (A1111's sd_noise_schedule option, written only when not Default).
// DPM++ ending at sigma(0) has no A1111 key (k-diffusion always ends at 0): the studio writes its own.
import { describe, expect, it } from 'vitest';
import { formatParameters, parseParameters, type ImageParameters } from './parameters';

const P: ImageParameters = {
  prompt: 'a lighthouse at night',
  negativePrompt: '',
  steps: 30,
  scheduler: 'dpmpp_2m',
  guidanceScale: 7,
  seed: 5,
  width: 1024,
  height: 1024,
};

describe('sampling options in the parameters text', () => {
  it('writes them after the standard keys, only when they differ from the defaults', () => {
    expect(formatParameters({ ...P, guidanceRescale: 0.7, zeroTerminalSnr: true, dpmFinalSigma: 'sigma_min' }).split('\n').at(-1)).toBe(
      'Steps: 30, Sampler: DPM++ 2M, CFG scale: 7, Seed: 5, Size: 1024x1024, CFG Rescale: 0.7, Noise Schedule: Zero Terminal SNR, DPM final sigma: sigma_min',
    );
    expect(formatParameters({ ...P, guidanceRescale: 0, zeroTerminalSnr: false, dpmFinalSigma: 'zero' })).toBe(formatParameters(P));
    // the DPM-only key is not written for other samplers
    expect(formatParameters({ ...P, scheduler: 'euler', dpmFinalSigma: 'sigma_min' })).not.toMatch(/final sigma/);
  });

  it('round-trips them and reads the extension\'s older key', () => {
    const full: ImageParameters = { ...P, guidanceRescale: 0.7, zeroTerminalSnr: true, dpmFinalSigma: 'sigma_min' };
    expect(parseParameters(formatParameters(full))).toEqual(full);
    const a1111 = 'x\nSteps: 20, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 512x512, CFG Rescale phi: 0.5, Noise Schedule: Zero Terminal SNR';
    const p = parseParameters(a1111);
    expect([p.guidanceRescale, p.zeroTerminalSnr, p.extra]).toEqual([0.5, true, undefined]);
  });

  it('ignores an out-of-range rescale instead of carrying it into the form', () => {
    expect(parseParameters('x\nSteps: 20, Sampler: Euler, CFG Rescale: 3').guidanceRescale).toBeUndefined();
  });
});
