/**
 * Masks on screen: each layer gets an offscreen canvas at the mask's size, painted in the layer's
 * colour with the mask as alpha; Konva draws it scaled to the scene, at the layer's opacity. A canvas
 * is repainted whole when its mask buffer or colour changes (buffers are immutable, so identity says
 * when), and only the dirty rect while a stroke is live.
 */
import type { Rect } from './editor/raster';

export interface MaskCanvas {
  canvas: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D;
  image: ImageData;
  /** The buffer and colour last painted. */
  mask: Uint8Array | null;
  color: string;
}

export function hexToRgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex);
  const n = m ? parseInt(m[1]!, 16) : 0xffffff;
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function createMaskCanvas(width: number, height: number): MaskCanvas {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('This browser gave no 2D canvas for the mask editor.');
  return { canvas, ctx, image: ctx.createImageData(width, height), mask: null, color: '' };
}

/** Paints `mask` (all of it, or only `rect`) into the canvas. */
export function paintMask(mc: MaskCanvas, mask: Uint8Array, color: string, rect?: Rect): void {
  const w = mc.canvas.width;
  const h = mc.canvas.height;
  const r = rect ?? { x0: 0, y0: 0, x1: w, y1: h };
  const [cr, cg, cb] = hexToRgb(color);
  const px = mc.image.data;
  for (let y = r.y0; y < r.y1; y++) {
    for (let i = y * w + r.x0, end = y * w + r.x1; i < end; i++) {
      const o = i * 4;
      px[o] = cr;
      px[o + 1] = cg;
      px[o + 2] = cb;
      px[o + 3] = mask[i]!;
    }
  }
  mc.ctx.putImageData(mc.image, 0, 0, r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
  if (!rect) {
    mc.mask = mask;
    mc.color = color;
  }
}

/** Keeps one canvas per layer id in `cache`, repainting those whose mask or colour changed; drops the rest. */
export function syncMaskCanvases(cache: Map<string, MaskCanvas>, layers: readonly { id: string; mask: Uint8Array; color: string }[], width: number, height: number): void {
  const keep = new Set<string>();
  for (const l of layers) {
    keep.add(l.id);
    let mc = cache.get(l.id);
    if (!mc || mc.canvas.width !== width || mc.canvas.height !== height) {
      mc = createMaskCanvas(width, height);
      cache.set(l.id, mc);
    }
    if (mc.mask !== l.mask || mc.color !== l.color) paintMask(mc, l.mask, l.color);
  }
  for (const id of [...cache.keys()]) if (!keep.has(id)) cache.delete(id);
}
