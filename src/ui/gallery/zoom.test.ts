import { describe, expect, it } from 'vitest';
import { fitZoom, MAX_ZOOM, MIN_ZOOM, scrollKeepingPoint, zoomIn, zoomLabel, zoomOut } from './zoom';

describe('viewer zoom', () => {
  it('steps through round values, 100% among them, and stops at the ends', () => {
    expect(zoomIn(1)).toBe(1.5);
    expect(zoomOut(1)).toBe(0.75);
    expect(zoomOut(zoomIn(1))).toBe(1);
    expect(zoomIn(1.2)).toBe(1.5); // from a fit value to the next step
    expect(zoomOut(1.2)).toBe(1);
    expect(zoomIn(MAX_ZOOM)).toBe(MAX_ZOOM);
    expect(zoomOut(MIN_ZOOM)).toBe(MIN_ZOOM);
    expect(zoomLabel(2 / 3)).toBe('67%');
  });
  it('fit scales up a small image and down a large one', () => {
    expect(fitZoom({ width: 64, height: 48 }, { width: 640, height: 960 })).toBe(10);
    expect(fitZoom({ width: 2048, height: 1024 }, { width: 1024, height: 1024 })).toBe(0.5);
    expect(fitZoom({ width: 1, height: 1 }, { width: 4000, height: 4000 })).toBe(MAX_ZOOM);
    expect(fitZoom({ width: 0, height: 0 }, { width: 10, height: 10 })).toBe(1);
  });
  it('keeps the point under the pointer in place', () => {
    // pointer 100 px into the view, scrolled 300: image point 400 at 1× is 800 at 2×, still under the pointer
    expect(scrollKeepingPoint(300, 100, 1, 2)).toBe(700);
    expect(scrollKeepingPoint(0, 100, 2, 1)).toBe(0);
    // a 200 px image centred in a 600 px view (margin 200), pointer on its middle (300), zoomed 1× → 4× (800 px, no margin)
    expect(scrollKeepingPoint(0, 300, 1, 4, 200, 0)).toBe(100);
  });
});
