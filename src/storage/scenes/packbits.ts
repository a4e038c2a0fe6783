/**
 * PackBits-style run-length coding for mask bytes at rest. Painted masks are mostly long runs of 0
 * and 255 (a 1 MiB empty layer becomes 16 KiB) and soft edges cost at most 1 byte per 128.
 * A header byte h < 128 is followed by h + 1 literal bytes; h ≥ 128 by one byte repeated h − 126
 * times (runs of 3..129 are written so; the decoder also takes 2).
 */
export class PackBitsError extends Error {
  override readonly name = 'PackBitsError';
}

export function packBits(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length + Math.ceil(src.length / 128) + 1);
  let o = 0;
  let i = 0;
  const n = src.length;
  while (i < n) {
    let run = 1;
    while (i + run < n && run < 129 && src[i + run] === src[i]) run++;
    if (run >= 3) {
      out[o++] = run + 126;
      out[o++] = src[i]!;
      i += run;
      continue;
    }
    // A literal stretch ends where three equal bytes start a run, or at 128 bytes (a pair stays
    // literal: as a run it would cost a header more when literals follow, growing the output).
    let j = i + 1;
    while (j < n && j - i < 128 && !(j + 2 < n && src[j] === src[j + 1] && src[j] === src[j + 2])) j++;
    out[o++] = j - i - 1;
    out.set(src.subarray(i, j), o);
    o += j - i;
    i = j;
  }
  return out.slice(0, o);
}

export function unpackBits(src: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  let i = 0;
  while (i < src.length) {
    const h = src[i++]!;
    if (h < 128) {
      const count = h + 1;
      if (i + count > src.length || o + count > length) throw new PackBitsError('a literal run overflows the mask');
      out.set(src.subarray(i, i + count), o);
      i += count;
      o += count;
    } else {
      const count = h - 126;
      if (i >= src.length || o + count > length) throw new PackBitsError('a repeat run overflows the mask');
      out.fill(src[i++]!, o, o + count);
      o += count;
    }
  }
  if (o !== length) throw new PackBitsError(`the mask decodes to ${o} bytes, expected ${length}`);
  return out;
}
