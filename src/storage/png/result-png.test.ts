import { describe, expect, it } from 'vitest';
import type { GenerateResult } from '../../engine/protocol';
import { decodePng } from './png';
import { formatParameters, type ImageParameters } from './parameters';
import { encodeResultPng } from './result-png';

const rgba = new Uint8ClampedArray(Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 37) % 256));
const result = (regions?: GenerateResult['params']['regions']): GenerateResult => ({
  image: { width: 3, height: 2, rgba },
  params: { prompt: 'a dog, on a beach', negativePrompt: 'blur', width: 24, height: 16, steps: 4, guidanceScale: 6.5, scheduler: 'ddim', seed: 9, previewEvery: 1, memoryMode: 'low', ...(regions ? { regions } : {}) },
  modelId: 'id-1',
  dtype: 'f32',
  timings: { encodeMs: 1, stepsMs: 2, decodeMs: 3, totalMs: 6 },
});
const base: ImageParameters = { prompt: 'a dog, on a beach', negativePrompt: 'blur', steps: 4, scheduler: 'ddim', guidanceScale: 6.5, seed: 9, width: 24, height: 16, model: 'sdxl' };

describe('encodeResultPng', () => {
  it('writes the pixels with the parameters text and the Software key, and nothing that changes between runs', async () => {
    const a = await encodeResultPng(result(), 'sdxl');
    expect(a.params).toEqual(base);
    expect(a.parameters).toBe(formatParameters(base));
    const img = await decodePng(a.png);
    expect(img.rgba).toEqual(rgba);
    expect(img.text).toEqual({ parameters: formatParameters(base), Software: 'CIDM Studio' });
    expect((await encodeResultPng(result(), 'sdxl')).png).toEqual(a.png);
  });

  it("keeps a regional run's region prompts as an extra key", async () => {
    const mask = new Float32Array(24 * 16);
    const r = await encodeResultPng(result([{ name: 'left', prompt: 'a cat', negativePrompt: '', mask }, { prompt: 'a hat', negativePrompt: '', mask }]), 'sdxl');
    expect(r.params).toEqual({ ...base, extra: { Regions: 'left: a cat | : a hat' } });
    expect(r.parameters).toBe(formatParameters({ ...base, extra: { Regions: 'left: a cat | : a hat' } }));
  });
});
