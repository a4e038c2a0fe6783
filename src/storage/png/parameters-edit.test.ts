/**
 * An edit in the `parameters` text: the strength as A1111 writes it for img2img ("Denoising strength"),
 * "Mask blur" for an inpaint run (A1111 writes it whenever a mask is used), and the studio's own
 * "Outpaint" and "Keep outside" keys; all read back, also from A1111's own infotext.
 */
import { describe, expect, it } from 'vitest';
import type { GenerateParams, GenerateResult } from '../../engine/protocol';
import { formatParameters, parseParameters, type ImageParameters } from './parameters';
import { resultParameters } from './result-png';

const P: ImageParameters = { prompt: 'a castle', negativePrompt: '', steps: 20, scheduler: 'euler', guidanceScale: 7, seed: 42, width: 64, height: 48, model: 'sdxl' };

describe('edit keys in the parameters text', () => {
  it('round-trips strength, mask blur, outpaint and keep outside, in A1111 spelling', () => {
    const edit = { ...P, denoisingStrength: 0.6, maskBlur: 4, outpaint: [0, 0, 16, 0] as [number, number, number, number], keepOutside: true };
    const text = formatParameters(edit);
    expect(text.split('\n').at(-1)).toBe('Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 42, Size: 64x48, Model: sdxl, Denoising strength: 0.6, Mask blur: 4, Outpaint: "0,0,16,0", Keep outside: true');
    expect(parseParameters(text)).toEqual(edit);
    expect(formatParameters(P)).not.toMatch(/Denoising|Mask blur|Outpaint|Keep outside/);
  });

  it("reads A1111's img2img infotext", () => {
    const a1111 = 'a cat\nSteps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 5, Size: 1024x1024, Model: sdxl, Denoising strength: 0.75, Mask blur: 4, Version: v1.10.1';
    const p = parseParameters(a1111);
    expect(p).toMatchObject({ denoisingStrength: 0.75, maskBlur: 4, scheduler: 'dpmpp_2m_karras' });
    expect(p.extra).toEqual({ Version: 'v1.10.1' });
  });

  it("a result's parameters carry the edit (defaults as the engine ran them), nothing for text to image", () => {
    const result = (params: Partial<GenerateParams>): GenerateResult => ({
      image: { width: 1, height: 1, rgba: new Uint8ClampedArray(4) },
      params: { prompt: 'a castle', negativePrompt: '', width: 64, height: 48, steps: 20, guidanceScale: 7, scheduler: 'euler', seed: 42, ...params },
      modelId: 'id',
      dtype: 'f32',
      timings: { encodeMs: 0, stepsMs: 0, decodeMs: 0, totalMs: 0 },
    });
    const initImage = { width: 1, height: 1, rgba: new Uint8ClampedArray(4) };
    expect(resultParameters(result({}), 'sdxl')).toEqual(P);
    expect(resultParameters(result({ initImage }), 'sdxl')).toEqual({ ...P, denoisingStrength: 0.75 });
    const mask = { width: 1, height: 1, data: new Float32Array(1) };
    expect(resultParameters(result({ initImage, strength: 0.5, mask, keepOutside: true }), 'sdxl')).toEqual({ ...P, denoisingStrength: 0.5, maskBlur: 4, keepOutside: true });
    expect(resultParameters(result({ initImage, strength: 1, outpaint: [8, 0, 0, 0], maskBlur: 2 }), 'sdxl')).toEqual({ ...P, denoisingStrength: 1, maskBlur: 2, outpaint: [8, 0, 0, 0] });
  });
});
