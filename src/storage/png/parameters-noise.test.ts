/**
 * The noise source in the `parameters` text: torch's CPU noise is written as A1111 writes its
 * "Random number generator source: CPU" option ("RNG: CPU"), read back from our PNGs and A1111's, and the
 * studio's own noise (the default) writes nothing, so existing PNG texts do not change.
 */
import { describe, expect, it } from 'vitest';
import type { GenerateResult } from '../../engine/protocol';
import { formatParameters, parseParameters, type ImageParameters } from './parameters';
import { resultParameters } from './result-png';

const P: ImageParameters = { prompt: 'a corgi', negativePrompt: 'blur', steps: 20, scheduler: 'euler_ancestral', guidanceScale: 7, seed: 42, width: 1024, height: 1024, model: 'sdxl' };

describe('noise source in the parameters text', () => {
  it('torch-cpu round-trips as "RNG: CPU"; the studio default writes no key', () => {
    const torch = { ...P, noiseSource: 'torch-cpu' as const };
    const text = formatParameters(torch);
    expect(text.split('\n').at(-1)).toBe('Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 1024x1024, Model: sdxl, RNG: CPU');
    expect(parseParameters(text)).toEqual(torch);
    expect(formatParameters(P)).not.toContain('RNG');
    expect(parseParameters(formatParameters(P)).noiseSource).toBeUndefined();
  });

  it("reads A1111's infotext: RNG: CPU is torch's CPU noise, RNG: NV stays an unknown key", () => {
    const a1111 = (rng: string) => `a castle\nNegative prompt: ugly\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1234, Size: 832x1216, Model: sd_xl_base_1.0, RNG: ${rng}, Version: v1.10.1`;
    const cpu = parseParameters(a1111('CPU'));
    expect(cpu.noiseSource).toBe('torch-cpu');
    expect(cpu.extra).toEqual({ Version: 'v1.10.1' });
    const nv = parseParameters(a1111('NV'));
    expect(nv.noiseSource).toBeUndefined();
    expect(nv.extra).toEqual({ RNG: 'NV', Version: 'v1.10.1' });
  });

  it("a result's PNG parameters carry the run's noise source", () => {
    const result = (noiseSource?: 'studio' | 'torch-cpu'): GenerateResult => ({
      image: { width: 1, height: 1, rgba: new Uint8ClampedArray(4) },
      params: { prompt: 'a corgi', negativePrompt: 'blur', width: 1024, height: 1024, steps: 20, guidanceScale: 7, scheduler: 'euler_ancestral', seed: 42, ...(noiseSource ? { noiseSource } : {}) },
      modelId: 'id',
      dtype: 'f32',
      timings: { encodeMs: 0, stepsMs: 0, decodeMs: 0, totalMs: 0 },
    });
    expect(resultParameters(result('torch-cpu'), 'sdxl')).toEqual({ ...P, noiseSource: 'torch-cpu' });
    expect(resultParameters(result('studio'), 'sdxl')).toEqual(P);
    expect(resultParameters(result(), 'sdxl')).toEqual(P);
  });
});
