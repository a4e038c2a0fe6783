/**
 * The pointer tools as small state machines: idle → (pointer down) gesture → (moves) → (up) a new
 * mask, or (cancel) nothing. Brush and eraser draw a stroke (brush.ts); rectangle and ellipse drag
 * a box and rasterize the shape once at the end (a preview rect meanwhile). Fill, clear and invert
 * act at once and need no gesture (doc.ts). Coordinates are mask pixels.
 */
import { beginStroke, endStroke, extendStroke, type StrokeState } from './brush';
import { fillEllipseMask, fillRectMask, rectFromDrag, type PaintMode, type Point, type Rect } from './raster';

export type ToolKind = 'brush' | 'eraser' | 'rect' | 'ellipse';
export type ActionKind = 'fill' | 'clear' | 'invert';

export interface ToolSettings {
  /** Brush diameter in mask pixels. */
  size: number;
  hardness: number;
  /** Shapes subtract instead of add (the UI holds Alt). */
  subtract: boolean;
}

export type Gesture =
  | { kind: 'stroke'; stroke: StrokeState }
  | { kind: 'shape'; shape: 'rect' | 'ellipse'; mode: PaintMode; start: Point; end: Point; width: number; height: number; base: Uint8Array };

export function beginGesture(tool: ToolKind, settings: ToolSettings, mask: Uint8Array, width: number, height: number, p: Point): { gesture: Gesture; dirty: Rect | null } {
  if (tool === 'brush' || tool === 'eraser') {
    const stroke = beginStroke(mask, width, height, { size: settings.size, hardness: settings.hardness, mode: tool === 'brush' ? 'paint' : 'erase' });
    const dirty = extendStroke(stroke, [p]);
    return { gesture: { kind: 'stroke', stroke }, dirty };
  }
  const mode: PaintMode = settings.subtract ? 'erase' : 'paint';
  return { gesture: { kind: 'shape', shape: tool, mode, start: p, end: p, width, height, base: mask }, dirty: null };
}

/** A pointer move. A stroke returns the mask rect whose live pixels changed (stroke.out). */
export function moveGesture(g: Gesture, points: readonly Point[]): Rect | null {
  if (g.kind === 'stroke') return extendStroke(g.stroke, points);
  const last = points[points.length - 1];
  if (last) g.end = last;
  return null;
}

/** The box a shape gesture would fill now (null for strokes). */
export function shapeRect(g: Gesture): Rect | null {
  return g.kind === 'shape' ? rectFromDrag(g.start, g.end, g.width, g.height) : null;
}

/** Pointer up: the layer's new mask. */
export function finishGesture(g: Gesture): Uint8Array {
  if (g.kind === 'stroke') return endStroke(g.stroke);
  const r = rectFromDrag(g.start, g.end, g.width, g.height);
  // The ellipse is inscribed in the unclipped drag box, so one dragged past an edge is cut, not squashed.
  if (g.shape === 'ellipse') {
    const box = { x0: Math.round(Math.min(g.start.x, g.end.x)), y0: Math.round(Math.min(g.start.y, g.end.y)), x1: Math.round(Math.max(g.start.x, g.end.x)), y1: Math.round(Math.max(g.start.y, g.end.y)) };
    return fillEllipseMask(g.base, g.width, g.height, box, g.mode);
  }
  return fillRectMask(g.base, g.width, g.height, r, g.mode);
}
