/**
 * The square crop of a training photo (spec §1.5: CIDM trains on square crops at the training size).
 * A crop is a square in source pixels: x, y its top-left corner, size its side; it always lies inside
 * the photo. Zoom 1 is the largest square (the short side); zoom z shows a square of short/z. Pure
 * maths, so it is unit-tested; the views only map pointer moves to these functions.
 */

export interface Crop {
  x: number;
  y: number;
  size: number;
}

/** How far in a crop may zoom: a side of a tenth of the short side (beyond that, one pixel fills many). */
export const MAX_CROP_ZOOM = 10;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The centred largest square. */
export function defaultCrop(width: number, height: number): Crop {
  const size = Math.min(width, height);
  return { x: (width - size) / 2, y: (height - size) / 2, size };
}

/** The crop kept inside the photo, its size within [short/MAX_CROP_ZOOM, short]. */
export function clampCrop(c: Crop, width: number, height: number): Crop {
  const short = Math.min(width, height);
  const size = clamp(c.size, short / MAX_CROP_ZOOM, short);
  return { x: clamp(c.x, 0, width - size), y: clamp(c.y, 0, height - size), size };
}

/** The zoom factor of a crop (1: the whole short side). */
export function cropZoom(c: Crop, width: number, height: number): number {
  return Math.min(width, height) / c.size;
}

/**
 * Moves the crop by a drag of (dx, dy) screen pixels in a view `viewSize` pixels wide that shows the
 * crop: dragging the picture right shows more of its left, so the crop moves the other way.
 */
export function panCrop(c: Crop, dx: number, dy: number, viewSize: number, width: number, height: number): Crop {
  const k = c.size / viewSize;
  return clampCrop({ x: c.x - dx * k, y: c.y - dy * k, size: c.size }, width, height);
}

/**
 * Sets the zoom, keeping the source point under the anchor (u, v ∈ [0, 1] of the view; default the
 * centre) where it is, as far as the photo's edges allow.
 */
export function zoomCrop(c: Crop, zoom: number, width: number, height: number, u = 0.5, v = 0.5): Crop {
  const short = Math.min(width, height);
  const size = clamp(short / clamp(zoom, 1, MAX_CROP_ZOOM), short / MAX_CROP_ZOOM, short);
  const px = c.x + u * c.size;
  const py = c.y + v * c.size;
  return clampCrop({ x: px - u * size, y: py - v * size, size }, width, height);
}

/** A point of the view (u, v ∈ [0, 1]) in source pixels. */
export function viewToSource(c: Crop, u: number, v: number): { x: number; y: number } {
  return { x: c.x + u * c.size, y: c.y + v * c.size };
}

/**
 * The crop in the mask's pixels: masks are painted on the photo scaled by `k` (mask = source · k), so
 * the crop and a painted stroke stay together however the crop is moved later.
 */
export function cropInMask(c: Crop, k: number): Crop {
  return { x: c.x * k, y: c.y * k, size: c.size * k };
}

/** The scale of a photo's mask: the photo fitted into maxSide (never enlarged). */
export function maskScale(width: number, height: number, maxSide: number): number {
  return Math.min(1, maxSide / Math.max(width, height));
}

/**
 * Samples a mask (Uint8, mw × mh) over the crop into a size × size mask of 0..1 floats (nearest mask
 * pixel at each output pixel's centre; outside the mask counts 0). What the masked loss reads.
 */
export function cropMask(mask: Uint8Array, mw: number, mh: number, c: Crop, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const step = c.size / size;
  for (let y = 0; y < size; y++) {
    const my = Math.floor(c.y + (y + 0.5) * step);
    if (my < 0 || my >= mh) continue;
    for (let x = 0; x < size; x++) {
      const mx = Math.floor(c.x + (x + 0.5) * step);
      if (mx >= 0 && mx < mw) out[y * size + x] = mask[my * mw + mx]! / 255;
    }
  }
  return out;
}
