/**
 * Pure raster operations on alpha masks (Uint8Array, row-major, width × height). Every operation
 * that changes pixels returns a NEW buffer (scene.ts: buffers in a scene are never written).
 *
 * Pixel (i, j) covers [i, i+1) × [j, j+1); its centre is (i + 0.5, j + 0.5). A Rect is integer pixel
 * bounds with x0/y0 inclusive and x1/y1 exclusive, so width = x1 − x0.
 */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface Point {
  x: number;
  y: number;
}

export type PaintMode = 'paint' | 'erase';

export function isEmptyRect(r: Rect): boolean {
  return r.x1 <= r.x0 || r.y1 <= r.y0;
}

export function rectArea(r: Rect): number {
  return isEmptyRect(r) ? 0 : (r.x1 - r.x0) * (r.y1 - r.y0);
}

export function unionRect(a: Rect | null, b: Rect | null): Rect | null {
  if (!a || isEmptyRect(a)) return b && !isEmptyRect(b) ? b : null;
  if (!b || isEmptyRect(b)) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

export function clipRect(r: Rect, width: number, height: number): Rect {
  return { x0: Math.max(0, r.x0), y0: Math.max(0, r.y0), x1: Math.min(width, r.x1), y1: Math.min(height, r.y1) };
}

/** The pixels of `rect` as a packed (x1−x0) × (y1−y0) buffer. */
export function extractRect(mask: Uint8Array, width: number, rect: Rect): Uint8Array {
  const w = rect.x1 - rect.x0;
  const out = new Uint8Array(rectArea(rect));
  for (let y = rect.y0; y < rect.y1; y++) out.set(mask.subarray(y * width + rect.x0, y * width + rect.x1), (y - rect.y0) * w);
  return out;
}

/** A copy of `mask` with `data` (packed, as extractRect gives it) written into `rect`. */
export function withRect(mask: Uint8Array, width: number, rect: Rect, data: Uint8Array): Uint8Array {
  const out = mask.slice();
  const w = rect.x1 - rect.x0;
  for (let y = rect.y0; y < rect.y1; y++) out.set(data.subarray((y - rect.y0) * w, (y - rect.y0 + 1) * w), y * width + rect.x0);
  return out;
}

/** The smallest rect outside which `a` and `b` are equal, or null when they are equal everywhere. */
export function diffRect(a: Uint8Array, b: Uint8Array, width: number, height: number): Rect | null {
  if (a.length !== b.length || a.length !== width * height) throw new RangeError('diffRect: masks of different sizes');
  let x0 = width;
  let y0 = height;
  let x1 = 0;
  let y1 = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = -1;
    for (let x = 0; x < width; x++) if (a[row + x] !== b[row + x]) { first = x; break; }
    if (first < 0) continue;
    let last = first;
    for (let x = width - 1; x > first; x--) if (a[row + x] !== b[row + x]) { last = x; break; }
    if (y < y0) y0 = y;
    y1 = y + 1;
    if (first < x0) x0 = first;
    if (last + 1 > x1) x1 = last + 1;
  }
  return y1 === 0 ? null : { x0, y0, x1, y1 };
}

export function filledMask(length: number, value: number): Uint8Array {
  return new Uint8Array(length).fill(value);
}

export function invertMask(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = 255 - mask[i]!;
  return out;
}

/** Number of pixels with any coverage. */
export function coverageCount(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) n++;
  return n;
}

/** The pixel rect spanned by a drag between two points, corners snapped to the nearest grid line. */
export function rectFromDrag(a: Point, b: Point, width: number, height: number): Rect {
  const r = { x0: Math.round(Math.min(a.x, b.x)), y0: Math.round(Math.min(a.y, b.y)), x1: Math.round(Math.max(a.x, b.x)), y1: Math.round(Math.max(a.y, b.y)) };
  return clipRect(r, width, height);
}

/** Hard rectangle: every pixel of `rect` set to 255 (paint) or 0 (erase). */
export function fillRectMask(mask: Uint8Array, width: number, height: number, rect: Rect, mode: PaintMode): Uint8Array {
  const r = clipRect(rect, width, height);
  const out = mask.slice();
  if (isEmptyRect(r)) return out;
  const v = mode === 'paint' ? 255 : 0;
  for (let y = r.y0; y < r.y1; y++) out.fill(v, y * width + r.x0, y * width + r.x1);
  return out;
}

/**
 * Hard ellipse inscribed in `rect` (unclipped, so it may reach past the edges): the pixels whose
 * centre satisfies ((cx−x)/rx)² + ((cy−y)/ry)² ≤ 1. Centres and radii are multiples of 0.5, exact in
 * binary, so the result is exactly symmetric about both axes.
 */
export function fillEllipseMask(mask: Uint8Array, width: number, height: number, rect: Rect, mode: PaintMode): Uint8Array {
  const out = mask.slice();
  if (isEmptyRect(rect)) return out;
  const cx = (rect.x0 + rect.x1) / 2;
  const cy = (rect.y0 + rect.y1) / 2;
  const rx = (rect.x1 - rect.x0) / 2;
  const ry = (rect.y1 - rect.y0) / 2;
  const v = mode === 'paint' ? 255 : 0;
  const c = clipRect(rect, width, height);
  for (let y = c.y0; y < c.y1; y++) {
    const dy = (y + 0.5 - cy) / ry;
    for (let x = c.x0; x < c.x1; x++) {
      const dx = (x + 0.5 - cx) / rx;
      if (dx * dx + dy * dy <= 1) out[y * width + x] = v;
    }
  }
  return out;
}

/**
 * Bilinear resampling with pixel centres aligned (src x = (dst x + 0.5)·sw/dw − 0.5, clamped at the
 * borders), the usual "align_corners=False" convention. Same size returns a copy.
 */
export function resampleAlpha(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  if (sw === dw && sh === dh) return src.slice();
  const f = resampleToFloat(src, sw, sh, dw, dh);
  const out = new Uint8Array(dw * dh);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(f[i]! * 255);
  return out;
}

/** As resampleAlpha, to floats in 0..1 (alpha / 255). */
export function resampleToFloat(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  if (sw === dw && sh === dh) {
    for (let i = 0; i < out.length; i++) out[i] = src[i]! / 255;
    return out;
  }
  const sx = sw / dw;
  const sy = sh / dh;
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(sh - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(sw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const tx = fx - x0;
      const top = src[y0 * sw + x0]! * (1 - tx) + src[y0 * sw + x1]! * tx;
      const bottom = src[y1 * sw + x0]! * (1 - tx) + src[y1 * sw + x1]! * tx;
      out[y * dw + x] = (top * (1 - ty) + bottom * ty) / 255;
    }
  }
  return out;
}
