/**
 * PNG encode and decode for the studio's own images (8-bit RGBA, PNG spec 3rd ed.), with tEXt chunks
 * (Latin-1 keyword/text, §11.3.4.3) and iTXt (UTF-8, §11.3.4.5) for parameters. The encoder writes
 * filter type 0 (None) rows: larger files than an adaptive filter, but exact and simple; the reader
 * understands all five filters and colour types 2 (RGB) and 6 (RGBA) at 8 bits, which covers what SD
 * tools write. Text chunks are read from any PNG, whatever its pixel format.
 */
import { crc32 } from './crc32';
import { deflate, inflate } from './zlib';
import { concatBytes } from '../concat-bytes';

export class PngError extends Error {
  override readonly name = 'PngError';
  constructor(readonly code: 'not-png' | 'truncated' | 'bad-crc' | 'unsupported', message: string) {
    super(message);
  }
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const latin1 = (s: string) => Uint8Array.from(s, (ch) => (ch.charCodeAt(0) <= 0xff ? ch.charCodeAt(0) : 0x3f));

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(latin1(type), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** True when a text can go in a tEXt chunk unchanged (Latin-1, no NUL). */
const isLatin1 = (s: string) => [...s].every((ch) => ch.charCodeAt(0) <= 0xff && ch !== '\0');

function textChunk(keyword: string, text: string): Uint8Array {
  if (isLatin1(text)) {
    const k = latin1(keyword);
    const t = latin1(text);
    const d = new Uint8Array(k.length + 1 + t.length);
    d.set(k, 0);
    d.set(t, k.length + 1);
    return chunk('tEXt', d);
  }
  // iTXt: keyword\0 compression-flag(0) method(0) language\0 translated-keyword\0 UTF-8 text
  const k = latin1(keyword);
  const t = new TextEncoder().encode(text);
  const d = new Uint8Array(k.length + 5 + t.length);
  d.set(k, 0);
  d.set(t, k.length + 5);
  return chunk('iTXt', d);
}

export async function encodePng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, text: Record<string, string> = {}): Promise<Uint8Array> {
  if (rgba.length !== width * height * 4) throw new RangeError(`encodePng: ${rgba.length} bytes for ${width}×${height} RGBA`);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit, RGBA, deflate, adaptive filtering method 0, no interlace
  const stride = width * 4;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return concatBytes([Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), ...Object.entries(text).map(([k, v]) => textChunk(k, v)), chunk('IDAT', await deflate(raw)), chunk('IEND', new Uint8Array())]);
}

interface Chunk {
  type: string;
  data: Uint8Array;
}

function* chunks(png: Uint8Array): Generator<Chunk> {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new PngError('not-png', 'This is not a PNG file.');
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  while (o < png.length) {
    if (o + 12 > png.length) throw new PngError('truncated', 'The PNG file ends in the middle of a chunk.');
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    if (o + 12 + len > png.length) throw new PngError('truncated', `The PNG file ends inside its ${type} chunk.`);
    const data = png.subarray(o + 8, o + 8 + len);
    if (crc32(png.subarray(o + 4, o + 8 + len)) !== dv.getUint32(o + 8 + len)) throw new PngError('bad-crc', `The PNG's ${type} chunk is damaged (CRC mismatch).`);
    yield { type, data };
    if (type === 'IEND') return;
    o += 12 + len;
  }
}

/** Every tEXt / iTXt (uncompressed) keyword → text of a PNG. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of chunks(png)) {
    if (c.type === 'tEXt') {
      const z = c.data.indexOf(0);
      if (z < 0) continue;
      out[String.fromCharCode(...c.data.subarray(0, z))] = Array.from(c.data.subarray(z + 1), (b) => String.fromCharCode(b)).join('');
    } else if (c.type === 'iTXt') {
      const z = c.data.indexOf(0);
      if (z < 0 || c.data[z + 1] !== 0) continue; // compressed iTXt is not written by SD tools' parameters
      const lang = c.data.indexOf(0, z + 3);
      const trans = lang < 0 ? -1 : c.data.indexOf(0, lang + 1);
      if (trans < 0) continue;
      out[String.fromCharCode(...c.data.subarray(0, z))] = new TextDecoder().decode(c.data.subarray(trans + 1));
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG to RGBA8. */
export async function decodePng(png: Uint8Array): Promise<{ width: number; height: number; rgba: Uint8ClampedArray; text: Record<string, string> }> {
  let width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  for (const c of chunks(png)) {
    if (c.type === 'IHDR') {
      const dv = new DataView(c.data.buffer, c.data.byteOffset, c.data.byteLength);
      width = dv.getUint32(0);
      height = dv.getUint32(4);
      const [depth, colour, , , interlace] = c.data.subarray(8, 13);
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new PngError('unsupported', `PNG format not supported (bit depth ${depth}, colour type ${colour}, interlace ${interlace}).`);
      channels = colour === 6 ? 4 : 3;
    } else if (c.type === 'IDAT') idat.push(c.data);
  }
  if (!channels) throw new PngError('truncated', 'The PNG has no header (IHDR).');
  const joined = new Uint8Array(idat.reduce((n, d) => n + d.length, 0));
  idat.reduce((o, d) => (joined.set(d, o), o + d.length), 0);
  const raw = await inflate(joined);
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new PngError('truncated', 'The PNG image data is shorter than its size.');
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = px.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? px.subarray((y - 1) * stride, y * stride) : null;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels]! : 0;
      const b = up ? up[x]! : 0;
      const c = up && x >= channels ? up[x - channels]! : 0;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : f === 4 ? paeth(a, b, c) : -1;
      if (pred < 0) throw new PngError('unsupported', `Unknown PNG filter type ${f}.`);
      row[x] = (src[x]! + pred) & 0xff;
    }
  }
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = px[i * channels]!;
    rgba[i * 4 + 1] = px[i * channels + 1]!;
    rgba[i * 4 + 2] = px[i * channels + 2]!;
    rgba[i * 4 + 3] = channels === 4 ? px[i * channels + 3]! : 255;
  }
  return { width, height, rgba, text: readPngText(png) };
}
