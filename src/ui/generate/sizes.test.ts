import { describe, expect, it } from 'vitest';
import { draftSizesFor, farFromNative, presetOf, presetsFor, SDXL_BUCKETS, snapSide } from './sizes';
import { modelSizesOf } from '../models/model-sizes';

describe('image sizes', () => {
  it('buckets are multiples of 64 near one megapixel', () => {
    for (const b of SDXL_BUCKETS) {
      expect(b.width % 64).toBe(0);
      expect(b.height % 64).toBe(0);
      expect(Math.abs((b.width * b.height) / (1024 * 1024) - 1)).toBeLessThan(0.07);
    }
  });
  it('snaps custom sides to multiples of 8 within bounds', () => {
    expect(snapSide(130)).toBe(128);
    expect(snapSide(133)).toBe(136);
    expect(snapSide(1)).toBe(16);
    expect(snapSide(99999)).toBe(2048);
    expect(snapSide(Number.NaN)).toBe(1024);
  });
  it('finds the preset of a size', () => {
    expect(presetOf(1216, 832)?.label).toBe('3:2');
    expect(presetOf(128, 192)).toBeUndefined();
  });
  it('SDXL (native 1024) gets the paper\'s buckets unchanged', () => {
    expect(presetsFor(modelSizesOf(null, null, 'sdxl'))).toEqual(SDXL_BUCKETS);
  });
  it('other models get the same aspects at their own native side, on their latent grid', () => {
    const sd15 = presetsFor(modelSizesOf(null, null, 'sd15'));
    expect(sd15.find((p) => p.label === '1:1')).toEqual({ label: '1:1', width: 512, height: 512 });
    expect(sd15.find((p) => p.label === '3:2')).toEqual({ label: '3:2', width: 608, height: 416 });
    // the tiny test model: sample_size 32 × 8 = 256; a three-level VAE (factor 4) at the same side
    const tiny = presetsFor({ native: 256, grid: 32 }, 8);
    expect(tiny[0]).toEqual({ label: '1:1', width: 256, height: 256 });
    for (const [p, factor] of [...tiny.map((q) => [q, 8] as const), ...presetsFor({ native: 128, grid: 8 }, 4).map((q) => [q, 4] as const)]) {
      expect(p.width % factor).toBe(0);
      expect(p.height % factor).toBe(0);
    }
    // every preset keeps its bucket's aspect within one rounding step
    for (const [i, p] of sd15.entries()) {
      const b = SDXL_BUCKETS[i]!;
      expect(p.label).toBe(b.label);
      expect(Math.abs(p.width / p.height - b.width / b.height)).toBeLessThan(0.12);
    }
  });
  it('drafts are half and a quarter of the native square, on the grid', () => {
    expect(draftSizesFor({ native: 1024, grid: 32 }).map((d) => d.width)).toEqual([512, 256]);
    expect(draftSizesFor({ native: 256, grid: 32 }).map((d) => d.width)).toEqual([128, 64]);
    expect(draftSizesFor({ native: 64, grid: 32 }).map((d) => d.width)).toEqual([32]);
  });
  it('flags sizes far from the native area', () => {
    expect(farFromNative(1024, 1024, { native: 512, grid: 64 })).toBe(true);
    expect(farFromNative(512, 768, { native: 512, grid: 64 })).toBe(false);
    expect(farFromNative(512, 512, { native: 1024, grid: 32 })).toBe(true);
    expect(farFromNative(1216, 832, { native: 1024, grid: 32 })).toBe(false);
  });
});
