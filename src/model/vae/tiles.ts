/**
 * Tile geometry and blending for the tiled VAE (pure functions, host side).
 *
 * Scheme (diffusers AutoencoderKL.tiled_decode / tiled_encode in spirit): the latent is cut into
 * overlapping tiles, each tile is run through the network on its own, and the outputs are blended
 * with linear ramps across every overlap. Differences from diffusers: tile starts are spread evenly
 * (diffusers steps by a fixed stride and decodes a sliver tile at the far edge), and the ramp
 * weights are normalised per axis, so they are an exact partition of unity for any overlap
 * (diffusers' blend assumes full-size neighbours and crops tile edges instead).
 */
import type { HostTensor } from './image';

/** [start, end) along one axis, in latent pixels. */
export interface TileSpan {
  start: number;
  end: number;
}

export interface TileGrid {
  rows: TileSpan[];
  cols: TileSpan[];
  /** Largest tile, latent pixels. */
  tileHeight: number;
  tileWidth: number;
}

/** `n` spans of length `tile` covering [0, size), starts spread evenly (first at 0, last at size - tile). */
export function evenSpans(size: number, tile: number, n: number): TileSpan[] {
  if (n === 1 || tile >= size) return [{ start: 0, end: size }];
  return Array.from({ length: n }, (_, k) => {
    const start = Math.round((k * (size - tile)) / (n - 1));
    return { start, end: start + tile };
  });
}

/** Fewest tiles of at most `tile` covering `size` with neighbours overlapping by at least `overlap`. */
export function spansFor(size: number, tile: number, overlap: number): TileSpan[] {
  if (tile >= size) return [{ start: 0, end: size }];
  if (tile <= overlap) throw new RangeError(`a tile of ${tile} cannot overlap its neighbour by ${overlap}`);
  return evenSpans(size, tile, Math.ceil((size - overlap) / (tile - overlap)));
}

export function gridFor(height: number, width: number, tile: { height: number; width: number }, overlap: number): TileGrid {
  const rows = spansFor(height, tile.height, overlap);
  const cols = spansFor(width, tile.width, overlap);
  return { rows, cols, tileHeight: Math.max(...rows.map((s) => s.end - s.start)), tileWidth: Math.max(...cols.map((s) => s.end - s.start)) };
}

/** Latent pixels the grid runs through the network (≥ height·width). */
export function gridWork(g: TileGrid): number {
  const sum = (s: TileSpan[]) => s.reduce((a, t) => a + t.end - t.start, 0);
  return sum(g.rows) * sum(g.cols);
}

/**
 * The grid that runs the least work with every tile's area ≤ maxArea (latent pixels) and overlaps of
 * at least `overlap`; ties go to fewer tiles. Null when no tile of that area can overlap.
 */
export function chooseGrid(height: number, width: number, maxArea: number, overlap: number): TileGrid | null {
  let best: { g: TileGrid; work: number; n: number } | null = null;
  for (let ny = 1; ny <= height; ny++) {
    const th = ny === 1 ? height : Math.ceil((height + (ny - 1) * overlap) / ny);
    if (ny > 1 && th <= overlap) break;
    const maxTw = Math.floor(maxArea / th);
    if (maxTw < 1 || (maxTw < width && maxTw <= overlap)) continue;
    const nx = maxTw >= width ? 1 : Math.ceil((width - overlap) / (maxTw - overlap));
    const tw = nx === 1 ? width : Math.ceil((width + (nx - 1) * overlap) / nx);
    const g: TileGrid = { rows: evenSpans(height, th, ny), cols: evenSpans(width, tw, nx), tileHeight: th, tileWidth: tw };
    const work = gridWork(g);
    if (!best || work < best.work || (work === best.work && ny * nx < best.n)) best = { g, work, n: ny * nx };
  }
  return best?.g ?? null;
}

/**
 * Blend weights of span k along one axis, at output resolution (`scale` output pixels per latent
 * pixel): linear ramps over the overlaps with the neighbours, then normalised so that the spans'
 * weights sum to 1 at every output pixel.
 */
export function axisWeights(spans: readonly TileSpan[], k: number, scale: number): Float32Array {
  const raw = (j: number, p: number): number => {
    const s = spans[j]!;
    const a = s.start * scale;
    const b = s.end * scale;
    if (p < a || p >= b) return 0;
    let w = 1;
    const prev = spans[j - 1];
    const next = spans[j + 1];
    if (prev && prev.end > s.start) w = Math.min(w, (p - a + 0.5) / ((prev.end - s.start) * scale));
    if (next && next.start < s.end) w = Math.min(w, (b - p - 0.5) / ((s.end - next.start) * scale));
    return w;
  };
  const s = spans[k]!;
  const out = new Float32Array((s.end - s.start) * scale);
  for (let i = 0; i < out.length; i++) {
    const p = s.start * scale + i;
    let total = 0;
    for (let j = 0; j < spans.length; j++) total += raw(j, p);
    out[i] = raw(k, p) / total;
  }
  return out;
}

/** Copies the latent window [rows × cols] of image `b` out of x [B, C, H, W] as [1, C, h, w]. */
export function cropTile(x: HostTensor, b: number, rows: TileSpan, cols: TileSpan, scale = 1): HostTensor {
  const [, c, h, w] = x.shape as [number, number, number, number];
  const [y0, y1, x0, x1] = [rows.start * scale, rows.end * scale, cols.start * scale, cols.end * scale];
  const th = y1 - y0;
  const tw = x1 - x0;
  const out = new Float32Array(c * th * tw);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < th; y++) {
      const src = ((b * c + ch) * h + y0 + y) * w + x0;
      out.set(x.data.subarray(src, src + tw), (ch * th + y) * tw);
    }
  }
  return { data: out, shape: [1, c, th, tw] };
}

/** out[b] += wy ⊗ wx · tile, where tile [1, C, th, tw] sits at (rows.start, cols.start)·scale. */
export function accumulateTile(out: HostTensor, b: number, tile: HostTensor, rows: TileSpan, cols: TileSpan, wy: Float32Array, wx: Float32Array, scale: number): void {
  const [, c, h, w] = out.shape as [number, number, number, number];
  const [, tc, th, tw] = tile.shape as [number, number, number, number];
  if (tc !== c || th !== wy.length || tw !== wx.length) throw new RangeError(`tile [${tile.shape.join(', ')}] does not fit its weights ${wy.length}×${wx.length}`);
  const y0 = rows.start * scale;
  const x0 = cols.start * scale;
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < th; y++) {
      const dst = ((b * c + ch) * h + y0 + y) * w + x0;
      const src = (ch * th + y) * tw;
      const ry = wy[y]!;
      for (let x = 0; x < tw; x++) out.data[dst + x] = out.data[dst + x]! + ry * wx[x]! * tile.data[src + x]!;
    }
  }
}
