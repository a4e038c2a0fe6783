import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32';
import { decodePng, encodePng, PngError, readPngText } from './png';
import { deflate } from './zlib';

function image(w: number, h: number): Uint8ClampedArray {
  const px = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37 + (i >> 2) * 11) & 0xff;
  return px;
}

describe('PNG', () => {
  it('CRC-32 of "IEND" is the constant every PNG ends with', () => {
    expect(crc32(new TextEncoder().encode('IEND')).toString(16)).toBe('ae426082');
    expect(crc32(new TextEncoder().encode('123456789')).toString(16)).toBe('cbf43926');
  });

  it('round-trips pixels and text exactly, Latin-1 as tEXt and Unicode as iTXt', async () => {
    const px = image(13, 7);
    const text = { parameters: 'a cat\nNegative prompt: dog\nSteps: 20, Seed: 5', comment: 'café 東京 🚀' };
    const png = await encodePng(px, 13, 7, text);
    const d = await decodePng(png);
    expect(d.width).toBe(13);
    expect(d.height).toBe(7);
    expect(d.rgba).toEqual(px);
    expect(d.text).toEqual(text);
    // the parameters chunk is a plain tEXt, which every SD tool reads
    expect(new TextDecoder('latin1').decode(png)).toContain('tEXtparameters\0a cat');
  });

  it('reads every PNG filter type and RGB images (as other tools write them)', async () => {
    const w = 5, h = 5, ch = 3;
    const rgb = Uint8Array.from({ length: w * h * ch }, (_, i) => (i * 29) & 0xff);
    // encode rows with filters 0..4 by hand
    const raw = new Uint8Array((w * ch + 1) * h);
    const at = (x: number, y: number) => (x < 0 || y < 0 ? 0 : rgb[y * w * ch + x]!);
    for (let y = 0; y < h; y++) {
      const f = y % 5;
      raw[y * (w * ch + 1)] = f;
      for (let x = 0; x < w * ch; x++) {
        const a = at(x - ch, y), b = at(x, y - 1), c = at(x - ch, y - 1);
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f]!;
        raw[y * (w * ch + 1) + 1 + x] = (at(x, y) - pred) & 0xff;
      }
    }
    const png = await encodePng(new Uint8ClampedArray(w * h * 4), w, h);
    // splice: replace IHDR colour type with 2 and IDAT with ours
    const idat = await deflate(raw);
    const parts: number[] = [...png.subarray(0, 8)];
    const ihdr = png.subarray(8, 8 + 25);
    const ihdrData = ihdr.slice(8, 21);
    ihdrData[9] = 2;
    const mk = (type: string, data: Uint8Array) => {
      const out = new Uint8Array(12 + data.length);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, data.length);
      out.set(new TextEncoder().encode(type), 4);
      out.set(data, 8);
      dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
      return out;
    };
    parts.push(...mk('IHDR', ihdrData), ...mk('IDAT', idat), ...mk('IEND', new Uint8Array()));
    const d = await decodePng(Uint8Array.from(parts));
    for (let i = 0; i < w * h; i++) {
      expect([d.rgba[i * 4], d.rgba[i * 4 + 1], d.rgba[i * 4 + 2], d.rgba[i * 4 + 3]]).toEqual([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2], 255]);
    }
  });

  it('names what is wrong with a bad file', async () => {
    const png = await encodePng(image(4, 4), 4, 4, { parameters: 'x' });
    expect(() => readPngText(new Uint8Array([1, 2, 3]))).toThrow(PngError);
    expect(() => readPngText(png.subarray(0, 40))).toThrowError(/ends/);
    const bad = png.slice();
    bad[40] = bad[40]! ^ 0xff; // inside the tEXt chunk
    expect(() => readPngText(bad)).toThrowError(/CRC/);
  });
});
