import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import type { LoadedTextEncoder } from '../model/text-encoder/load';
import { EmptyMaskError } from '../cidm/train/errors';
import { buildExamples, captionIds, latentMasks, maskToLatent, photoToImage } from './train-photos';
import type { TrainPhoto } from './protocol';

const DIR = 'golden/models';
const tokenizer = (sub: string) => {
  const r = (f: string) => readFileSync(join(DIR, sub, f), 'utf8');
  return ClipTokenizer.fromFiles(r('vocab.json'), r('merges.txt'), ClipTokenizer.configFromJson(r('tokenizer_config.json')));
};

function photo(size: number, mask?: (y: number, x: number) => number): TrainPhoto {
  const rgba = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < size * size; i++) rgba.set([255, 0, 128, 7], i * 4);
  return { rgba: { width: size, height: size, rgba }, ...(mask ? { mask: Float32Array.from({ length: size * size }, (_, i) => mask(Math.floor(i / size), i % size)) } : {}) };
}

describe('training photos → examples', () => {
  it('RGBA → [1, 3, H, W] in [-1, 1], alpha ignored', () => {
    const img = photoToImage(photo(4).rgba);
    expect(img.shape).toEqual([1, 3, 4, 4]);
    expect(img.data[0]).toBe(1);
    expect(img.data[16]).toBe(-1);
    expect(img.data[32]).toBeCloseTo((128 / 255) * 2 - 1, 6);
  });

  it('area-averages a mask to latent cells (8×8 pixels each)', () => {
    // left half of the top-left cell set, and the whole bottom-right cell
    const m = photo(16, (y, x) => ((y < 8 && x < 4) || (y >= 8 && x >= 8) ? 1 : 0)).mask!;
    expect(Array.from(maskToLatent(m, 16, 2))).toEqual([0.5, 0, 0, 1]);
    // soft values average too; values outside 0..1 are clamped
    const soft = Float32Array.from({ length: 64 }, (_, i) => (i % 2 ? 2 : 0.25));
    expect(maskToLatent(soft, 8, 1)[0]).toBeCloseTo(0.625, 6);
  });

  it('masks only when masked; an empty mask is refused by name', () => {
    const photos = [photo(16, (y) => (y < 8 ? 1 : 0)), photo(16)];
    const on = latentMasks(photos, true, 16, 2);
    expect(Array.from(on[0]!)).toEqual([1, 1, 0, 0]);
    expect(on[1]).toBeUndefined();
    expect(latentMasks(photos, false, 16, 2)).toEqual([undefined, undefined]);
    expect(() => latentMasks([photo(16, () => 0)], true, 16, 2)).toThrow(EmptyMaskError);
  });

  it('one example per (photo, template), placeholder ids past the vocabulary, SDXL time ids', () => {
    const toks = [tokenizer('tokenizer'), tokenizer('tokenizer_2')];
    const encoders = [{ config: { vocabSize: 49408 } }, { config: { vocabSize: 49408 } }] as unknown as LoadedTextEncoder[];
    const spec = { placeholders: ['<q1>', '<q2>'], classWord: 'dog', resolution: 64, timeIds: true };
    const ids = captionIds(toks, encoders, spec);
    expect(ids).toHaveLength(27);
    expect(ids[0]).toHaveLength(2);
    expect(ids[0]![0]).toHaveLength(77);
    // "a photo of a <q1> <q2> dog": BOS a photo of a → the placeholders at 5 and 6
    expect(ids[0]![0]!.slice(5, 7)).toEqual([49408, 49409]);
    expect(ids[0]![1]!.slice(5, 7)).toEqual([49408, 49409]);
    const latents = [new Float32Array(4), new Float32Array(4)];
    const masks = [new Float32Array([1, 0, 0, 0]), undefined];
    const ex = buildExamples(latents, masks, ids, spec);
    expect(ex).toHaveLength(54);
    expect(ex[0]!.latents).toBe(latents[0]);
    expect(ex[0]!.mask).toBe(masks[0]);
    expect(ex[27]!.mask).toBeUndefined();
    expect(ex[0]!.timeIds).toEqual([64, 64, 0, 0, 64, 64]);
    expect(buildExamples(latents, masks, ids, { ...spec, timeIds: false })[0]!.timeIds).toBeUndefined();
  });
});
