/**
 * safetensors dtypes and the CPU conversions from stored bytes to what the GPU loader uploads:
 * f32 values or f16 bit patterns. All safetensors data is little-endian (format spec,
 * https://github.com/huggingface/safetensors#format); every browser engine we target is little-endian,
 * so typed-array views read it directly.
 */
import { f16BitsToF32, f32ToF16Bits } from '../../gpu/f16';

/** Every dtype the safetensors format defines, with its element size in bytes. */
export const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BYTES;
/** The dtypes this reader converts to floats. */
export type FloatDtype = 'F32' | 'F16' | 'BF16';
/** What a caller asks for: f32 values (Float32Array) or IEEE half bit patterns (Uint16Array). */
export type TargetDtype = 'f32' | 'f16';

export function isSafetensorsDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

export function isFloatDtype(d: SafetensorsDtype): d is FloatDtype {
  return d === 'F32' || d === 'F16' || d === 'BF16';
}

/**
 * A typed-array view of `bytes` with element size `align`. Views need an aligned byteOffset; sources
 * normally return fresh buffers (offset 0), but a slice of a larger read may not be aligned, so copy then.
 */
function aligned(bytes: Uint8Array, align: number): ArrayBuffer {
  if (bytes.byteOffset % align === 0 && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer;
}
function offsetOf(bytes: Uint8Array, align: number): number {
  return bytes.byteOffset % align === 0 && bytes.buffer instanceof ArrayBuffer ? bytes.byteOffset : 0;
}

function u16View(bytes: Uint8Array): Uint16Array<ArrayBuffer> {
  return new Uint16Array(aligned(bytes, 2), offsetOf(bytes, 2), bytes.byteLength >> 1);
}

/** Converts stored bytes of a float tensor to f32 values. F16 and BF16 widen exactly. */
export function bytesToF32(bytes: Uint8Array, dtype: FloatDtype): Float32Array<ArrayBuffer> {
  switch (dtype) {
    case 'F32': {
      // Copy: the result must not alias a buffer the source may reuse.
      const out = new Float32Array(bytes.byteLength >> 2);
      new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
      return out;
    }
    case 'F16': {
      const h = u16View(bytes);
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = f16BitsToF32(h[i]!);
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of an IEEE f32, so widening is a 16-bit shift (exact, NaN/inf kept).
      const h = u16View(bytes);
      const out = new Float32Array(h.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < h.length; i++) bits[i] = h[i]! << 16;
      return out;
    }
  }
}

/**
 * Converts stored bytes of a float tensor to f16 bit patterns. F16 is copied as is; F32 rounds to
 * nearest-even (src/gpu/f16.ts, with overflow to ±inf as IEEE requires); BF16 widens to f32 exactly
 * first, so it is rounded once.
 */
export function bytesToF16Bits(bytes: Uint8Array, dtype: FloatDtype): Uint16Array<ArrayBuffer> {
  switch (dtype) {
    case 'F16':
      return u16View(bytes).slice();
    case 'F32': {
      const n = bytes.byteLength >> 2;
      const f = new Float32Array(aligned(bytes, 4), offsetOf(bytes, 4), n);
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = f32ToF16Bits(f[i]!);
      return out;
    }
    case 'BF16': {
      const h = u16View(bytes);
      const out = new Uint16Array(h.length);
      const f = new Float32Array(1);
      const bits = new Uint32Array(f.buffer);
      for (let i = 0; i < h.length; i++) {
        bits[0] = h[i]! << 16;
        out[i] = f32ToF16Bits(f[0]!);
      }
      return out;
    }
  }
}

/** Converts to the requested target dtype. */
export function convertBytes(bytes: Uint8Array, dtype: FloatDtype, to: 'f32'): Float32Array<ArrayBuffer>;
export function convertBytes(bytes: Uint8Array, dtype: FloatDtype, to: 'f16'): Uint16Array<ArrayBuffer>;
export function convertBytes(bytes: Uint8Array, dtype: FloatDtype, to: TargetDtype): Float32Array<ArrayBuffer> | Uint16Array<ArrayBuffer>;
export function convertBytes(bytes: Uint8Array, dtype: FloatDtype, to: TargetDtype): Float32Array<ArrayBuffer> | Uint16Array<ArrayBuffer> {
  return to === 'f32' ? bytesToF32(bytes, dtype) : bytesToF16Bits(bytes, dtype);
}
