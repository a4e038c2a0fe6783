import { describe, expect, it } from 'vitest';
import type { HostTensor } from './image';
import { accumulateTile, axisWeights, chooseGrid, cropTile, evenSpans, gridFor, gridWork, spansFor, type TileGrid, type TileSpan } from './tiles';

function covers(spans: TileSpan[], size: number, overlap: number): void {
  expect(spans[0]!.start).toBe(0);
  expect(spans[spans.length - 1]!.end).toBe(size);
  for (let k = 1; k < spans.length; k++) expect(spans[k - 1]!.end - spans[k]!.start).toBeGreaterThanOrEqual(overlap);
}

/** A stand-in network without normalisation: every output pixel depends only on its own latent pixel. */
function pointwiseUpsample(x: HostTensor, f: number): HostTensor {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  const out = new Float32Array(b * c * h * f * w * f);
  for (let i = 0; i < b * c; i++) {
    for (let y = 0; y < h * f; y++) {
      for (let xx = 0; xx < w * f; xx++) out[(i * h * f + y) * w * f + xx] = Math.sin(3 * x.data[(i * h + Math.floor(y / f)) * w + Math.floor(xx / f)]!) + 0.01 * (y % f);
    }
  }
  return { data: out, shape: [b, c, h * f, w * f] };
}

function tiledRun(x: HostTensor, grid: TileGrid, f: number): HostTensor {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  const out: HostTensor = { data: new Float32Array(b * c * h * f * w * f), shape: [b, c, h * f, w * f] };
  for (let i = 0; i < b; i++) {
    for (const [r, rows] of grid.rows.entries()) {
      for (const [k, cols] of grid.cols.entries()) {
        const y = pointwiseUpsample(cropTile(x, i, rows, cols), f);
        accumulateTile(out, i, y, rows, cols, axisWeights(grid.rows, r, f), axisWeights(grid.cols, k, f), f);
      }
    }
  }
  return out;
}

describe('VAE tile geometry', () => {
  it('covers the axis with even starts and at least the requested overlap', () => {
    for (const [size, tile, overlap] of [[128, 64, 16], [100, 30, 8], [17, 10, 4], [13, 7, 2], [64, 64, 8], [40, 100, 8]] as const) {
      const s = spansFor(size, tile, overlap);
      covers(s, size, tile >= size ? 0 : overlap);
      for (const t of s) expect(t.end - t.start).toBeLessThanOrEqual(Math.min(tile, size));
    }
    expect(evenSpans(128, 64, 3)).toEqual([{ start: 0, end: 64 }, { start: 32, end: 96 }, { start: 64, end: 128 }]);
    expect(() => spansFor(100, 8, 8)).toThrow(RangeError);
  });

  it('blend weights are a partition of unity for any overlap, incl. three tiles over one pixel', () => {
    for (const [size, tile, overlap, f] of [[128, 64, 16, 8], [17, 10, 4, 8], [13, 7, 2, 1], [23, 9, 6, 2]] as const) {
      const spans = spansFor(size, tile, overlap);
      const sum = new Float64Array(size * f);
      for (let k = 0; k < spans.length; k++) {
        const w = axisWeights(spans, k, f);
        expect(w.length).toBe((spans[k]!.end - spans[k]!.start) * f);
        for (let i = 0; i < w.length; i++) {
          expect(w[i]).toBeGreaterThan(0);
          sum[spans[k]!.start * f + i]! += w[i]!;
        }
      }
      for (const s of sum) expect(s).toBeCloseTo(1, 6);
    }
  });

  it('chooseGrid keeps every tile within the area and prefers the least work', () => {
    // SDXL 1024² in f16: 4096 latent pixels per tile; 2 × 3 tiles of 72 × 54 beat 3 × 3 of 64 × 64
    const g = chooseGrid(128, 128, 4096, 16)!;
    expect([g.rows.length, g.cols.length, g.tileHeight, g.tileWidth]).toEqual([2, 3, 72, 54]);
    expect(g.tileHeight * g.tileWidth).toBeLessThanOrEqual(4096);
    covers(g.rows, 128, 16);
    covers(g.cols, 128, 16);
    expect(gridWork(g)).toBeLessThan(gridWork(gridFor(128, 128, { height: 64, width: 64 }, 16)));
    expect(chooseGrid(40, 60, 4096, 16)).toEqual({ rows: [{ start: 0, end: 40 }], cols: [{ start: 0, end: 60 }], tileHeight: 40, tileWidth: 60 });
    expect(chooseGrid(128, 128, 200, 16)).toBeNull(); // a 14-wide tile cannot overlap by 16
  });

  it('tiled run of a normalisation-free network equals the untiled run exactly', () => {
    const x: HostTensor = { data: Float32Array.from({ length: 2 * 3 * 19 * 23 }, (_, i) => Math.cos(i * 0.37)), shape: [2, 3, 19, 23] };
    const whole = pointwiseUpsample(x, 4);
    for (const grid of [gridFor(19, 23, { height: 9, width: 10 }, 3), gridFor(19, 23, { height: 12, width: 23 }, 4), chooseGrid(19, 23, 90, 2)!]) {
      expect(grid.rows.length * grid.cols.length).toBeGreaterThan(1);
      const tiled = tiledRun(x, grid, 4);
      let max = 0;
      for (let i = 0; i < whole.data.length; i++) max = Math.max(max, Math.abs(tiled.data[i]! - whole.data[i]!));
      expect(max).toBeLessThan(1e-6);
    }
  });
});
