/**
 * The pixel geometry of an edit: an init image (and its mask) fitted to the run's size, and the larger
 * canvas of outpainting. Fitting is A1111's "crop and resize" (resize_mode 1; diffusers' resize_mode
 * "crop", image_processor.py l. 335–375): scale to cover the target, keep the center. The resampling is
 * PIL's antialiased bilinear (a triangle filter whose support grows with the downscale factor, as
 * Image.resize(BILINEAR) does), separable, on float planes. A same-size image is returned unchanged,
 * so the paste-back of an unresized input is exact.
 */

export interface RgbaPixels {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/** Left, top, right, bottom pixels added by outpainting. */
export type Outpaint = readonly [number, number, number, number];

/** Triangle-filter weights for one output index along one axis (PIL's bilinear with antialiasing). */
function axisTaps(srcLen: number, start: number, span: number, dstLen: number): { from: number; w: Float64Array }[] {
  const scale = span / dstLen;
  const support = Math.max(1, scale);
  const taps: { from: number; w: Float64Array }[] = [];
  for (let o = 0; o < dstLen; o++) {
    const center = start + (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(srcLen - 1, Math.ceil(center + support));
    const w = new Float64Array(hi - lo + 1);
    let sum = 0;
    for (let j = lo; j <= hi; j++) sum += w[j - lo] = Math.max(0, 1 - Math.abs(j + 0.5 - center) / support);
    if (sum === 0) w[Math.min(w.length - 1, Math.max(0, Math.round(center - 0.5) - lo))] = sum = 1;
    taps.push({ from: lo, w: w.map((v) => v / sum) });
  }
  return taps;
}

/** The source rectangle that covers dstW × dstH at the source's scale, centered (crop and resize). */
function coverRect(sw: number, sh: number, dw: number, dh: number): { x: number; y: number; w: number; h: number } {
  const s = Math.max(dw / sw, dh / sh);
  const w = dw / s;
  const h = dh / s;
  return { x: (sw - w) / 2, y: (sh - h) / 2, w, h };
}

/** `planes` float planes of sw × sh (plane-major) resampled to dw × dh over the cover rectangle. */
function resamplePlanes(src: Float32Array, planes: number, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const r = coverRect(sw, sh, dw, dh);
  const tx = axisTaps(sw, r.x, r.w, dw);
  const ty = axisTaps(sh, r.y, r.h, dh);
  const out = new Float32Array(planes * dw * dh);
  const row = new Float64Array(dw * sh);
  for (let p = 0; p < planes; p++) {
    const base = p * sw * sh;
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < dw; x++) {
        const { from, w } = tx[x]!;
        let acc = 0;
        for (let j = 0; j < w.length; j++) acc += w[j]! * src[base + y * sw + from + j]!;
        row[y * dw + x] = acc;
      }
    }
    for (let y = 0; y < dh; y++) {
      const { from, w } = ty[y]!;
      for (let x = 0; x < dw; x++) {
        let acc = 0;
        for (let j = 0; j < w.length; j++) acc += w[j]! * row[(from + j) * dw + x]!;
        out[p * dw * dh + y * dw + x] = acc;
      }
    }
  }
  return out;
}

/** The image cropped and resized to width × height (alpha kept); the same array when it already fits. */
export function fitImage(img: RgbaPixels, width: number, height: number): RgbaPixels {
  if (img.width === width && img.height === height) return img;
  const hw = img.width * img.height;
  const planes = new Float32Array(4 * hw);
  for (let p = 0; p < hw; p++) for (let c = 0; c < 4; c++) planes[c * hw + p] = img.rgba[p * 4 + c]!;
  const res = resamplePlanes(planes, 4, img.width, img.height, width, height);
  const out = new Uint8ClampedArray(width * height * 4);
  const n = width * height;
  for (let p = 0; p < n; p++) for (let c = 0; c < 4; c++) out[p * 4 + c] = Math.round(res[c * n + p]!);
  return { width, height, rgba: out };
}

/** A 0..1 mask plane of sw × sh cropped and resized like fitImage; the same array when it already fits. */
export function fitMask(mask: Float32Array, sw: number, sh: number, width: number, height: number): Float32Array {
  if (sw === width && sh === height) return mask;
  return resamplePlanes(mask, 1, sw, sh, width, height).map((v) => Math.min(1, Math.max(0, v)));
}

/**
 * Outpainting: the fitted image placed at (left, top) of a canvas width × height; the new area takes
 * the nearest edge pixel (so that the noised start latent there has the image's colours, not black)
 * and is the mask (1), the image's own area keeps `mask` (or 0).
 */
export function outpaintCanvas(inner: RgbaPixels, innerMask: Float32Array | null, o: Outpaint): { image: RgbaPixels; mask: Float32Array } {
  const [l, t, r, b] = o;
  const width = inner.width + l + r;
  const height = inner.height + t + b;
  const rgba = new Uint8ClampedArray(width * height * 4);
  const mask = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const iy = Math.min(inner.height - 1, Math.max(0, y - t));
    for (let x = 0; x < width; x++) {
      const ix = Math.min(inner.width - 1, Math.max(0, x - l));
      const p = y * width + x;
      rgba.set(inner.rgba.subarray((iy * inner.width + ix) * 4, (iy * inner.width + ix) * 4 + 4), p * 4);
      const inside = y - t === iy && x - l === ix;
      mask[p] = inside ? (innerMask?.[iy * inner.width + ix] ?? 0) : 1;
    }
  }
  return { image: { width, height, rgba }, mask };
}

/** A mask drawn as an image (white = repaint, as A1111 takes it): gray level × alpha, 0..1 per pixel. */
export function maskFromGray(rgba: ArrayLike<number>): Float32Array<ArrayBuffer> {
  const out = new Float32Array(rgba.length / 4);
  for (let p = 0; p < out.length; p++) out[p] = ((rgba[p * 4]! + rgba[p * 4 + 1]! + rgba[p * 4 + 2]!) / (3 * 255)) * (rgba[p * 4 + 3]! / 255);
  return out;
}

/** The erased part of an image as the mask (transparent = repaint): 1 − alpha, 0..1 per pixel. */
export function maskFromAlpha(rgba: ArrayLike<number>): Float32Array<ArrayBuffer> {
  const out = new Float32Array(rgba.length / 4);
  for (let p = 0; p < out.length; p++) out[p] = 1 - rgba[p * 4 + 3]! / 255;
  return out;
}
