import { describe, expect, it } from 'vitest';
import { formatParameters, parseParameters, ParametersError, type ImageParameters } from './parameters';

const P: ImageParameters = {
  prompt: 'a photo of a corgi, (golden hour:1.2)\nsecond line',
  negativePrompt: 'blurry, low quality',
  steps: 28,
  scheduler: 'dpmpp_2m_karras',
  guidanceScale: 6.5,
  seed: 4294967295,
  width: 1216,
  height: 832,
  model: 'sdxl-base, fp16',
};

describe('parameters text', () => {
  it('round-trips exactly', () => {
    expect(parseParameters(formatParameters(P))).toEqual(P);
    const noNeg = { ...P, negativePrompt: '', model: undefined };
    expect(parseParameters(formatParameters(noNeg))).toEqual(noNeg);
  });

  it('writes the AUTOMATIC1111 layout', () => {
    expect(formatParameters(P)).toBe(
      'a photo of a corgi, (golden hour:1.2)\nsecond line\nNegative prompt: blurry, low quality\n' +
        'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 4294967295, Size: 1216x832, Model: "sdxl-base, fp16"',
    );
  });

  it('reads what other tools write (schedule type, quoted hashes, unknown keys)', () => {
    const text =
      'masterpiece, a castle\nNegative prompt: ugly\n' +
      'Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Lora hashes: "a: 1, b: 2", Version: v1.9.4';
    const p = parseParameters(text);
    expect(p.prompt).toBe('masterpiece, a castle');
    expect(p.negativePrompt).toBe('ugly');
    expect(p.scheduler).toBe('dpmpp_2m_karras');
    expect([p.steps, p.guidanceScale, p.seed, p.width, p.height]).toEqual([20, 7, 42, 832, 1216]);
    expect(p.model).toBe('sd_xl_base_1.0');
    expect(p.modelHash).toBe('31e35c80fc');
    expect(p.loraHashes).toEqual([{ name: 'a', hash: '1' }, { name: 'b', hash: '2' }]);
    expect(p.extra).toEqual({ Version: 'v1.9.4' });
    expect(parseParameters('x\nSteps: 10, Sampler: Euler a').scheduler).toBe('euler_ancestral');
    expect(parseParameters('x\nSteps: 10, Sampler: UniPC', 'ddim').scheduler).toBe('ddim');
  });

  it('refuses text without settings', () => {
    expect(() => parseParameters('just a prompt')).toThrow(ParametersError);
  });
});
