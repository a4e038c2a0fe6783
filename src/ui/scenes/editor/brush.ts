/**
 * Brush and eraser strokes: pointer samples → evenly spaced round dabs → a coverage field → the
 * layer's alpha. All in mask (editing) pixels; deterministic: the same samples give the same bytes,
 * however they were batched into extendStroke calls (the spacing remainder carries across calls).
 *
 * Within one stroke the coverage is the MAX over its dabs (a stroke at full flow: overlapping dabs do
 * not build up, so the spacing cannot change the result's opacity). The stroke then composites onto
 * the layer as it was when the stroke began: paint a' = a + c·(255 − a), erase a' = a·(1 − c), rounded.
 * A hard dab (c = 1) thus paints 255 and erases to exactly 0.
 */
import { clipRect, isEmptyRect, unionRect, type PaintMode, type Point, type Rect } from './raster';

export interface BrushParams {
  /** Diameter in mask pixels (≥ 1). */
  size: number;
  /** 0..1: the fraction of the radius at full coverage; beyond it coverage falls to 0 at the radius. */
  hardness: number;
  mode: PaintMode;
}

/** Dab spacing: a tenth of the diameter, at most half a pixel apart for thin brushes (no gaps). */
export function dabSpacing(size: number): number {
  return Math.max(0.5, size * 0.1);
}

/** Coverage of a dab at distance d from its centre: 1 inside r·hardness, smoothstep falloff to 0 at r. */
export function dabCoverage(d: number, radius: number, hardness: number): number {
  if (d > radius) return 0;
  const inner = radius * hardness;
  if (d <= inner) return 1;
  const t = (d - inner) / (radius - inner);
  return 1 - t * t * (3 - 2 * t);
}

export interface DabWalk {
  last: Point | null;
  /** Path length since the last dab. */
  carry: number;
}

/** Dabs from the walk's last point to p, one every `spacing` along the path (the first sample gets one). */
export function walkDabs(walk: DabWalk, p: Point, spacing: number): { walk: DabWalk; dabs: Point[] } {
  if (!walk.last) return { walk: { last: p, carry: 0 }, dabs: [p] };
  const dx = p.x - walk.last.x;
  const dy = p.y - walk.last.y;
  const len = Math.hypot(dx, dy);
  if (len === 0) return { walk, dabs: [] };
  const dabs: Point[] = [];
  let t = spacing - walk.carry;
  while (t <= len) {
    dabs.push({ x: walk.last.x + (dx * t) / len, y: walk.last.y + (dy * t) / len });
    t += spacing;
  }
  return { walk: { last: p, carry: len - (t - spacing) }, dabs };
}

/** Max-combines one dab into `cov` (width × height); returns the pixel rect it touched. */
export function stampDab(cov: Float32Array, width: number, height: number, c: Point, size: number, hardness: number): Rect {
  const r = size / 2;
  const rect = clipRect({ x0: Math.ceil(c.x - r - 0.5), y0: Math.ceil(c.y - r - 0.5), x1: Math.floor(c.x + r - 0.5) + 1, y1: Math.floor(c.y + r - 0.5) + 1 }, width, height);
  for (let y = rect.y0; y < rect.y1; y++) {
    const dy = y + 0.5 - c.y;
    for (let x = rect.x0; x < rect.x1; x++) {
      const v = dabCoverage(Math.hypot(x + 0.5 - c.x, dy), r, hardness);
      const i = y * width + x;
      if (v > cov[i]!) cov[i] = v;
    }
  }
  return rect;
}

export interface StrokeState {
  params: BrushParams;
  width: number;
  height: number;
  /** The layer's mask when the stroke began (never written). */
  base: Uint8Array;
  /** base with the stroke so far composited: the live result (owned by the stroke until it ends). */
  out: Uint8Array;
  cov: Float32Array;
  walk: DabWalk;
  /** Everything the stroke touched so far. */
  dirty: Rect | null;
}

function composite(s: StrokeState, r: Rect): void {
  const paint = s.params.mode === 'paint';
  for (let y = r.y0; y < r.y1; y++) {
    for (let i = y * s.width + r.x0, end = y * s.width + r.x1; i < end; i++) {
      const a = s.base[i]!;
      const c = s.cov[i]!;
      s.out[i] = paint ? Math.round(a + c * (255 - a)) : Math.round(a * (1 - c));
    }
  }
}

export function beginStroke(base: Uint8Array, width: number, height: number, params: BrushParams): StrokeState {
  if (base.length !== width * height) throw new RangeError('beginStroke: mask size does not match');
  const p = { ...params, size: Math.max(1, params.size), hardness: Math.min(1, Math.max(0, params.hardness)) };
  return { params: p, width, height, base, out: base.slice(), cov: new Float32Array(width * height), walk: { last: null, carry: 0 }, dirty: null };
}

/** Adds pointer samples; updates `out` in place and returns the rect that changed (null: nothing). */
export function extendStroke(s: StrokeState, points: readonly Point[]): Rect | null {
  let touched: Rect | null = null;
  for (const p of points) {
    const step = walkDabs(s.walk, p, dabSpacing(s.params.size));
    s.walk = step.walk;
    for (const d of step.dabs) touched = unionRect(touched, stampDab(s.cov, s.width, s.height, d, s.params.size, s.params.hardness));
  }
  if (!touched || isEmptyRect(touched)) return null;
  composite(s, touched);
  s.dirty = unionRect(s.dirty, touched);
  return touched;
}

/** The mask after the stroke (a new buffer; the stroke must not be extended afterwards). */
export function endStroke(s: StrokeState): Uint8Array {
  return s.out;
}

/** One whole stroke at once (the same bytes as beginStroke + extendStroke in any batching + endStroke). */
export function rasterizeStroke(base: Uint8Array, width: number, height: number, params: BrushParams, points: readonly Point[]): Uint8Array {
  const s = beginStroke(base, width, height, params);
  extendStroke(s, points);
  return endStroke(s);
}
