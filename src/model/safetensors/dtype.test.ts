import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../../gpu/f16';
import { randomArray } from '../../../tests/numeric';
import { bytesToF16Bits, bytesToF32, DTYPE_BYTES, isSafetensorsDtype } from './dtype';
import { SafetensorsFile } from './reader';
import { MemorySource } from './source';
import { encodeSafetensors } from './writer';

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** bf16 bits of an f32 by truncation (exactly representable values only, so no rounding question). */
function bf16Bits(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0]! >>> 16;
}

describe('dtype conversion', () => {
  it('knows every safetensors dtype and its size', () => {
    expect(Object.keys(DTYPE_BYTES)).toHaveLength(15);
    expect([DTYPE_BYTES.F32, DTYPE_BYTES.F16, DTYPE_BYTES.BF16, DTYPE_BYTES.I64]).toEqual([4, 2, 2, 8]);
    expect(isSafetensorsDtype('BF16')).toBe(true);
    expect(isSafetensorsDtype('bf16')).toBe(false);
    expect(isSafetensorsDtype('toString')).toBe(false);
  });

  it('BF16 -> f32 is exact, including signed zero, subnormals, infinities and NaN', () => {
    const values = [0, -0, 1, -2.5, 3.140625, 1e-40 /* subnormal, truncated */, 65504, 3.3895313892515355e38, Infinity, -Infinity, NaN];
    const bits = Uint16Array.from(values.map(bf16Bits));
    const out = bytesToF32(bytesOf(bits), 'BF16');
    for (let i = 0; i < values.length; i++) {
      const expected = new Float32Array(new Uint32Array([bits[i]! << 16]).buffer)[0]!;
      expect(Object.is(out[i], expected)).toBe(true);
    }
    expect(out[3]).toBe(-2.5);
    expect(Object.is(out[1], -0)).toBe(true);
    // Every one of the 65536 bf16 patterns widens to the f32 with those top bits.
    const all = new Uint16Array(65536).map((_, i) => i);
    const wide = new Uint32Array(bytesToF32(bytesOf(all), 'BF16').buffer);
    for (let i = 0; i < 65536; i++) if (wide[i] !== i << 16 >>> 0) throw new Error(`bf16 ${i} widened wrongly`);
  });

  it('F16 -> f32 matches src/gpu/f16.ts for every bit pattern', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const out = bytesToF32(bytesOf(all), 'F16');
    for (let i = 0; i < 65536; i++) {
      const e = f16BitsToF32(i);
      if (!(Object.is(out[i], Math.fround(e)) || (Number.isNaN(e) && Number.isNaN(out[i])))) throw new Error(`f16 ${i}`);
    }
  });

  it('F32 -> f16 rounds like f32ToF16Bits; F16 -> f16 is a copy; BF16 -> f16 rounds once', () => {
    const x = randomArray(1000, 7, -70000, 70000);
    const h = bytesToF16Bits(bytesOf(x), 'F32');
    for (let i = 0; i < x.length; i++) expect(h[i]).toBe(f32ToF16Bits(x[i]!));
    expect(bytesToF16Bits(bytesOf(h), 'F16')).toEqual(h);
    // Values bf16 holds exactly; 1.0078125·2^-20 is an f16 subnormal, so it must round (once, from the exact f32).
    const exact = [1.0078125, -3.5, 65536, 1.0078125 * 2 ** -20];
    const bf = Uint16Array.from(exact.map(bf16Bits));
    expect(Array.from(bytesToF16Bits(bytesOf(bf), 'BF16'))).toEqual(exact.map(f32ToF16Bits));
    expect(bytesToF16Bits(bytesOf(bf), 'BF16')[2]).toBe(0x7c00); // 65536 overflows f16 to +inf
  });

  it('converts from an unaligned byte view (a slice of a larger read)', () => {
    const x = Float32Array.of(1.5, -2, 3.25);
    const raw = new Uint8Array(13);
    raw.set(bytesOf(x), 1);
    const view = raw.subarray(1);
    expect(bytesToF32(view, 'F32')).toEqual(x);
    expect(Array.from(bytesToF16Bits(view, 'F32'))).toEqual(Array.from(x, f32ToF16Bits));
    const h = Uint16Array.of(0x3c00, 0xc000);
    const raw2 = new Uint8Array(5);
    raw2.set(bytesOf(h), 1);
    expect(Array.from(bytesToF32(raw2.subarray(1), 'F16'))).toEqual([1, -2]);
  });

  it('the reader serves F16 and BF16 files as f32 and as f16 bits', async () => {
    const vals = [0.5, -1, 2, 1024];
    const bytes = encodeSafetensors([
      { name: 'h', dtype: 'F16', shape: [2, 2], data: Uint16Array.from(vals, f32ToF16Bits) },
      { name: 'b', dtype: 'BF16', shape: [4], data: Uint16Array.from(vals, bf16Bits) },
    ]);
    const f = await SafetensorsFile.open(new MemorySource(bytes, 'mixed.safetensors'));
    expect(Array.from(await f.read('h', 'f32'))).toEqual(vals);
    expect(Array.from(await f.read('b', 'f32'))).toEqual(vals);
    expect(Array.from(await f.read('b', 'f16'))).toEqual(vals.map(f32ToF16Bits));
    expect(Array.from(await f.readSlice('h', 'f32', 1, 2))).toEqual([-1, 2]);
  });
});
