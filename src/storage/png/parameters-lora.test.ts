import { describe, expect, it } from 'vitest';
import { formatParameters, parseParameters, type ImageParameters } from './parameters';
import { resultParameters } from './result-png';
import type { GenerateResult } from '../../engine/protocol';

// An infotext as AUTOMATIC1111 1.10 writes it for an SDXL image with two LoRAs (its key order: Model hash
// before Model, Lora hashes after the sampling keys; the value quoted because it holds ',' and ':').
const A1111 =
  'a castle <lora:pixel art:0.8> <lora:detail:0.5>\nNegative prompt: blurry\n' +
  'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 1024x1024, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, ' +
  'Lora hashes: "pixel art: 0123456789ab, detail: ba9876543210"';

describe('parameters: Model hash and Lora hashes', () => {
  it('reads them out of A1111 text and writes the same text back', () => {
    const p = parseParameters(A1111);
    expect(p.prompt).toBe('a castle <lora:pixel art:0.8> <lora:detail:0.5>');
    expect(p.modelHash).toBe('31e35c80fc');
    expect(p.loraHashes).toEqual([
      { name: 'pixel art', hash: '0123456789ab' },
      { name: 'detail', hash: 'ba9876543210' },
    ]);
    expect(p.extra).toBeUndefined();
    expect(formatParameters(p)).toBe(A1111);
  });

  it('round-trips, and writes neither key when there is nothing to say', () => {
    const base: ImageParameters = { prompt: 'x', negativePrompt: '', steps: 4, scheduler: 'euler', guidanceScale: 5, seed: 3, width: 64, height: 64, model: 'tiny' };
    const withHashes = { ...base, modelHash: 'abcdef0123', loraHashes: [{ name: 'one', hash: '111111111111' }] };
    expect(parseParameters(formatParameters(withHashes))).toEqual(withHashes);
    expect(formatParameters(withHashes)).toContain('Model hash: abcdef0123, Model: tiny, Lora hashes: "one: 111111111111"');
    expect(formatParameters(base)).not.toMatch(/hash/);
  });
});

describe('a run with LoRAs as the gallery writes it', () => {
  it('keeps the tags in the prompt and writes Model hash and Lora hashes in A1111 order', () => {
    const r: GenerateResult = {
      image: { width: 1, height: 1, rgba: new Uint8ClampedArray(4) },
      params: { prompt: 'a cube <lora:pix:0.8>', negativePrompt: '', width: 64, height: 64, steps: 2, guidanceScale: 5, scheduler: 'euler', seed: 1 },
      modelId: 'm',
      dtype: 'f32',
      timings: { encodeMs: 0, stepsMs: 0, decodeMs: 0, totalMs: 0 },
      loras: [{ name: 'pix', id: 'lora-1', hash: '0123456789ab', te: 0.8, unet: 0.8 }],
    };
    const p = resultParameters(r, 'tiny', 'abcdef0123');
    expect(formatParameters(p)).toBe(
      'a cube <lora:pix:0.8>\nSteps: 2, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 64x64, Model hash: abcdef0123, Model: tiny, Lora hashes: "pix: 0123456789ab"',
    );
    expect(parseParameters(formatParameters(p))).toEqual(p);
  });
});
