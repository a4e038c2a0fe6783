import { describe, expect, it } from 'vitest';
import { clampCrop, cropInMask, cropMask, cropZoom, defaultCrop, MAX_CROP_ZOOM, maskScale, panCrop, viewToSource, zoomCrop } from './crop';

describe('training photo crop', () => {
  it('starts as the centred largest square, landscape and portrait', () => {
    expect(defaultCrop(800, 600)).toEqual({ x: 100, y: 0, size: 600 });
    expect(defaultCrop(300, 500)).toEqual({ x: 0, y: 100, size: 300 });
    expect(cropZoom(defaultCrop(800, 600), 800, 600)).toBe(1);
  });

  it('stays inside the photo and within the zoom range', () => {
    expect(clampCrop({ x: -50, y: 900, size: 600 }, 800, 600)).toEqual({ x: 0, y: 0, size: 600 });
    expect(clampCrop({ x: 700, y: 10, size: 2000 }, 800, 600)).toEqual({ x: 200, y: 0, size: 600 });
    expect(clampCrop({ x: 0, y: 0, size: 1 }, 800, 600).size).toBe(600 / MAX_CROP_ZOOM);
  });

  it('pans opposite to the drag, scaled from view pixels to source pixels', () => {
    const c = { x: 100, y: 0, size: 600 };
    // a 300-px view of a 600-px crop: dragging the picture 10 px right shows 20 source px more on the left
    expect(panCrop(c, 10, 0, 300, 800, 600)).toEqual({ x: 80, y: 0, size: 600 });
    expect(panCrop(c, -1000, 0, 300, 800, 600)).toEqual({ x: 200, y: 0, size: 600 });
  });

  it('zooms about the anchor, keeping the source point under it', () => {
    const c = { x: 100, y: 0, size: 600 };
    const z = zoomCrop(c, 2, 800, 600, 0.25, 0.5);
    expect(z.size).toBe(300);
    expect(viewToSource(z, 0.25, 0.5)).toEqual(viewToSource(c, 0.25, 0.5));
    expect(zoomCrop(c, 0.5, 800, 600).size).toBe(600); // never below zoom 1
    expect(zoomCrop(c, 99, 800, 600).size).toBe(600 / MAX_CROP_ZOOM);
  });

  it('samples the mask over the crop at the training size', () => {
    // a 4×2 mask of a 8×4 photo (k = 0.5), painted on its right half
    const k = maskScale(8, 4, 4);
    expect(k).toBe(0.5);
    const mask = new Uint8Array([0, 0, 255, 255, 0, 0, 255, 255]);
    const crop = { x: 4, y: 0, size: 4 }; // the right square of the photo
    expect(Array.from(cropMask(mask, 4, 2, cropInMask(crop, k), 2))).toEqual([1, 1, 1, 1]);
    const left = cropMask(mask, 4, 2, cropInMask({ x: 0, y: 0, size: 4 }, k), 2);
    expect(Array.from(left)).toEqual([0, 0, 0, 0]);
    const mid = cropMask(mask, 4, 2, cropInMask({ x: 2, y: 0, size: 4 }, k), 4);
    expect(Array.from(mid.slice(0, 4))).toEqual([0, 0, 1, 1]);
  });
});
