import { describe, expect, it } from 'vitest';
import { beginGesture, finishGesture, moveGesture, shapeRect } from './tools';
import { rasterizeStroke } from './brush';
import { fillEllipseMask, fillRectMask } from './raster';

const settings = { size: 3, hardness: 0.6, subtract: false };

describe('tool gestures', () => {
  it('brush and eraser gestures give exactly the stroke of their samples', () => {
    const base = new Uint8Array(20 * 12);
    const pts = [{ x: 2, y: 2 }, { x: 7, y: 9 }, { x: 15, y: 4 }];
    const { gesture, dirty } = beginGesture('brush', settings, base, 20, 12, pts[0]!);
    expect(dirty).not.toBeNull();
    expect(moveGesture(gesture, pts.slice(1))).not.toBeNull();
    const painted = finishGesture(gesture);
    expect(painted).toEqual(rasterizeStroke(base, 20, 12, { size: 3, hardness: 0.6, mode: 'paint' }, pts));
    expect(base.every((v) => v === 0)).toBe(true);
    const er = beginGesture('eraser', { ...settings, size: 6, hardness: 1 }, painted, 20, 12, pts[0]!).gesture;
    moveGesture(er, pts.slice(1));
    expect(finishGesture(er).every((v) => v === 0)).toBe(true);
  });
  it('rectangle and ellipse drags fill their box at the end, with a live preview rect', () => {
    const base = new Uint8Array(10 * 8);
    const g = beginGesture('rect', settings, base, 10, 8, { x: 1.1, y: 1.9 }).gesture;
    expect(moveGesture(g, [{ x: 4, y: 4 }, { x: 6.2, y: 5.4 }])).toBeNull();
    expect(shapeRect(g)).toEqual({ x0: 1, y0: 2, x1: 6, y1: 5 });
    expect(finishGesture(g)).toEqual(fillRectMask(base, 10, 8, { x0: 1, y0: 2, x1: 6, y1: 5 }, 'paint'));
    const e = beginGesture('ellipse', settings, base, 10, 8, { x: 6, y: 4 }).gesture;
    moveGesture(e, [{ x: 14, y: 8 }]);
    expect(finishGesture(e)).toEqual(fillEllipseMask(base, 10, 8, { x0: 6, y0: 4, x1: 14, y1: 8 }, 'paint'));
    const full = new Uint8Array(80).fill(255);
    const sub = beginGesture('rect', { ...settings, subtract: true }, full, 10, 8, { x: 0, y: 0 }).gesture;
    moveGesture(sub, [{ x: 10, y: 1 }]);
    expect(Array.from(finishGesture(sub).subarray(0, 12))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255]);
  });
});
