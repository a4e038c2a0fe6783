/** The edit's pixel geometry (edit-image.ts): crop-and-resize, outpaint canvas, masks from images. */
import { describe, expect, it } from 'vitest';
import { fitImage, fitMask, maskFromAlpha, maskFromGray, outpaintCanvas } from './edit-image';

const rgbaOf = (w: number, h: number, f: (x: number, y: number) => [number, number, number, number]) => {
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set(f(x, y), (y * w + x) * 4);
  return { width: w, height: h, rgba: out };
};

describe('fitImage / fitMask (crop and resize)', () => {
  it('an image of the run size is returned as it is (the paste-back stays exact)', () => {
    const img = rgbaOf(8, 8, (x, y) => [x, y, 0, 255]);
    expect(fitImage(img, 8, 8)).toBe(img);
    const m = new Float32Array(64);
    expect(fitMask(m, 8, 8, 8, 8)).toBe(m);
  });
  it('keeps the center at the same scale: 4×2 → 2×2 is columns 1 and 2', () => {
    const img = rgbaOf(4, 2, (x, y) => [10 * x, 10 * y, 7, 255]);
    expect(Array.from(fitImage(img, 2, 2).rgba)).toEqual([10, 0, 7, 255, 20, 0, 7, 255, 10, 10, 7, 255, 20, 10, 7, 255]);
  });
  it("downscaling 2× is PIL's bilinear: a triangle of support 2, weights 3/7, 3/7, 1/7 at the edge column", () => {
    const img = rgbaOf(4, 4, (x) => [x < 2 ? 0 : 200, 40, 9, 255]);
    const got = fitImage(img, 2, 2).rgba;
    // output x = 0: center 1, taps x = 0, 1, 2 with 1 − |x + 0.5 − 1|/2 = 0.75, 0.75, 0.25 → 200 · 0.25/1.75 = 28.6
    expect([got[0], got[4]]).toEqual([29, 171]);
    for (let p = 0; p < 4; p++) expect([got[p * 4 + 1], got[p * 4 + 2], got[p * 4 + 3]]).toEqual([40, 9, 255]);
  });
});

describe('outpaintCanvas', () => {
  it('places the image at (left, top), repeats its edge pixels into the new area, which is the mask', () => {
    const img = rgbaOf(2, 1, (x) => [x ? 100 : 50, 0, 0, 255]);
    const { image, mask } = outpaintCanvas(img, Float32Array.from([0, 0.5]), [1, 1, 0, 0]);
    expect([image.width, image.height]).toEqual([3, 2]);
    expect(Array.from({ length: 6 }, (_, p) => image.rgba[p * 4])).toEqual([50, 50, 100, 50, 50, 100]);
    expect(Array.from(mask)).toEqual([1, 1, 1, 1, 0, 0.5]);
  });
});

describe('masks from images', () => {
  it('gray × alpha (white = repaint), and 1 − alpha (erased = repaint)', () => {
    const px = [255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 0, 51, 102, 153, 255];
    expect(Array.from(maskFromGray(px))).toEqual([1, 0, 0, Math.fround(0.4)]);
    expect(Array.from(maskFromAlpha(px))).toEqual([0, 0, 1, 0]);
  });
});
