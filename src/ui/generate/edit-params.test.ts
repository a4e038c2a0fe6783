import { describe, expect, it } from 'vitest';
import { editParams, fitDescription, initRunSize, latentFactorOf, maskFromAlpha, parseStrength, snapSides, snapTo, type EditSettings } from './edit-params';
import { SDXL_VAE_CONFIG } from '../../model/config';

const img = (width: number, height: number, alpha = 255) => ({ width, height, rgba: new Uint8ClampedArray(width * height * 4).fill(alpha) });

const base = (over: Partial<EditSettings> = {}): EditSettings => ({
  init: img(4, 2),
  mode: 'img2img',
  strength: 0.6,
  mask: null,
  maskWidth: 4,
  maskHeight: 2,
  maskBlur: 3,
  keepOutside: true,
  outpaint: [0, 0, 0, 0],
  ...over,
});

describe('edit params (Generate page → engine)', () => {
  it('latent factor is 2^(levels − 1) of the VAE: 8 for SDXL, 4 for a 3-level VAE', () => {
    expect(latentFactorOf(SDXL_VAE_CONFIG.blockOutChannels)).toBe(8);
    expect(latentFactorOf([16, 32, 64])).toBe(4);
  });

  it('an init image that fits keeps its size; a large one is scaled to 1024 long side; sides snap to the factor', () => {
    expect(initRunSize(64, 48, 8)).toEqual({ width: 64, height: 48 });
    expect(initRunSize(4000, 3000, 8)).toEqual({ width: 1024, height: 768 });
    expect(initRunSize(101, 37, 4)).toEqual({ width: 100, height: 36 });
    expect(snapTo(3, 8)).toBe(16); // at least two latent cells
    expect(snapTo(5000, 16)).toBe(2048);
  });

  it('says how the image is fitted', () => {
    expect(fitDescription({ width: 64, height: 48 }, 64, 48)).toBe('used as it is (64×48)');
    expect(fitDescription({ width: 128, height: 96 }, 64, 48)).toBe('resized from 128×96 to 64×48');
    expect(fitDescription({ width: 100, height: 100 }, 64, 48)).toBe('cropped to the aspect and resized from 100×100 to 64×48');
  });

  it('validates a typed strength', () => {
    expect(parseStrength('0.35')).toEqual({ value: 0.35 });
    expect(parseStrength(' 1 ')).toEqual({ value: 1 });
    expect(parseStrength('1.2')).toEqual({ error: 'The strength must be from 0 to 1, not 1.2.' });
    expect(parseStrength('abc')).toHaveProperty('error');
    expect(parseStrength('')).toHaveProperty('error');
  });

  it('outpaint sides are whole multiples of the factor, never negative', () => {
    expect(snapSides([17, -8, 8, 63], 8)).toEqual([16, 0, 8, 56]);
  });

  it('no init image: text to image (no edit fields)', () => {
    expect(editParams(base({ init: null }), 64, 48)).toEqual({});
  });

  it('image to image sends the init image and strength only', () => {
    const e = base();
    expect(editParams(e, 64, 48)).toEqual({ initImage: e.init, strength: 0.6, width: 64, height: 48 });
  });

  it('inpaint sends the mask at the init image size as 0..1, with blur and keep-outside; an empty mask is image to image', () => {
    const mask = new Uint8Array([0, 255, 255, 0, 0, 0, 51, 0]);
    const p = editParams(base({ mode: 'inpaint', mask }), 64, 48);
    expect(p.mask?.width).toBe(4);
    expect(p.mask?.height).toBe(2);
    expect([...p.mask!.data]).toEqual([0, 1, 1, 0, 0, 0, 0.2, 0].map((v) => Math.fround(v)));
    expect(p).toMatchObject({ maskBlur: 3, keepOutside: true, strength: 0.6 });
    expect(editParams(base({ mode: 'inpaint', mask: new Uint8Array(8) }), 64, 48)).not.toHaveProperty('mask');
  });

  it('a mask painted at a smaller editing size is resampled to the init image (bilinear, centres aligned)', () => {
    const p = editParams(base({ init: img(4, 2), mode: 'inpaint', mask: new Uint8Array([255, 0]), maskWidth: 2, maskHeight: 1 }), 64, 48);
    // x = (i + 0.5)·0.5 − 0.5 clamped: 0, 0.25, 0.75, 1 → 1, 0.75, 0.25, 0 (each row)
    expect([...p.mask!.data]).toEqual([1, 0.75, 0.25, 0, 1, 0.75, 0.25, 0]);
  });

  it('outpaint grows the canvas by the sides and sends them; no sides is image to image', () => {
    const p = editParams(base({ mode: 'outpaint', outpaint: [8, 0, 16, 0] }), 64, 48);
    expect(p).toMatchObject({ width: 88, height: 48, outpaint: [8, 0, 16, 0], keepOutside: true, maskBlur: 3 });
    expect(editParams(base({ mode: 'outpaint' }), 64, 48)).not.toHaveProperty('outpaint');
  });

  it('the alpha of a PNG becomes the mask (transparent = repaint); an opaque image has none', () => {
    const rgba = img(2, 1);
    rgba.rgba[3] = 0;
    rgba.rgba[7] = 200;
    expect([...maskFromAlpha(rgba)!]).toEqual([255, 55]);
    expect(maskFromAlpha(img(2, 2))).toBeNull();
  });
});
