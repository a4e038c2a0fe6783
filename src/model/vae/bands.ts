/**
 * Band planning for the banded VAE run (banded.ts): an NCHW activation too large for one binding is
 * held as horizontal bands [N, C, rows, W], each its own buffer. A band's op binds its own rows plus
 * `halo` rows read from its neighbours (a 3×3 conv reads one row above and one below), so the split
 * keeps (rows + halo) × rowBytes under the binding limit. Pure arithmetic: unit-tested without a GPU.
 */
import { BYTES_PER_ELEMENT, type DType } from '../../gpu/tensor';

/** Rows [start, end) of one band. */
export interface BandRows {
  start: number;
  end: number;
}

export interface SplitOptions {
  /** Extra rows the band's op binds beyond its own (2 for a 3×3 conv's halo); default 0. */
  halo?: number;
  /** Band boundaries fall on multiples of this (2 for a nearest 2× upsample's output); default 1. */
  unit?: number;
}

/** Bytes of one row of an NCHW tensor across its whole batch and all channels. */
export function rowBytes(shape: readonly number[], dtype: DType): number {
  const [n, c, , w] = shape as [number, number, number, number];
  return n * c * w * BYTES_PER_ELEMENT[dtype];
}

/** Buffer bytes of `rows` rows (buffers are sized in 4-byte words). */
function bytesOf(rows: number, perRow: number): number {
  return Math.ceil((rows * perRow) / 4) * 4;
}

/**
 * The fewest near-equal bands of `height` rows whose bound size fits `limit` bytes: one band (no halo:
 * it has no neighbours) when the whole tensor fits, else k bands of ⌈units/k⌉ or ⌊units/k⌋ units each.
 * Throws a RangeError naming the sizes when even one unit with its halo exceeds the limit.
 */
export function splitRows(height: number, perRow: number, limit: number, o: SplitOptions = {}): BandRows[] {
  const halo = o.halo ?? 0;
  const unit = o.unit ?? 1;
  if (!Number.isInteger(height) || height < 1) throw new RangeError(`VAE bands: height ${height} must be a positive integer`);
  if (!Number.isInteger(unit) || unit < 1 || height % unit !== 0) throw new RangeError(`VAE bands: height ${height} is not a multiple of the band unit ${unit}`);
  if (bytesOf(height, perRow) <= limit) return [{ start: 0, end: height }];
  const units = height / unit;
  const perBandMax = Math.floor((limit / perRow - halo) / unit); // units per band that fit with the halo
  for (let u = Math.min(perBandMax, units); u >= 1; u--) {
    if (bytesOf(u * unit + halo, perRow) > limit) continue;
    const k = Math.ceil(units / u);
    const base = Math.floor(units / k);
    const extra = units % k;
    const out: BandRows[] = [];
    let start = 0;
    for (let i = 0; i < k; i++) {
      const end = start + (base + (i < extra ? 1 : 0)) * unit;
      out.push({ start, end });
      start = end;
    }
    return out;
  }
  throw new RangeError(
    `VAE bands: ${unit + halo} rows of ${perRow} bytes (one band of ${unit} row(s) and its ${halo}-row halo) exceed the ${limit}-byte binding limit; the image is too wide for this device`,
  );
}

/** The bands overlapping rows [r0, r1), with the overlap of each. */
export function bandsOver(bands: readonly BandRows[], r0: number, r1: number): { index: number; start: number; end: number }[] {
  const out: { index: number; start: number; end: number }[] = [];
  bands.forEach((b, index) => {
    const start = Math.max(b.start, r0);
    const end = Math.min(b.end, r1);
    if (start < end) out.push({ index, start, end });
  });
  return out;
}
