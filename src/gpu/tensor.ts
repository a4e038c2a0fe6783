/**
 * A tensor handle: a view of a GPU buffer with a row-major shape and a storage dtype. Compute is
 * always f32 in registers; `f16` means f16 storage (only on devices with `shader-f16`).
 */
export type DType = 'f32' | 'f16';

export interface Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly buffer: GPUBuffer;
  /** Byte offset of element 0 in `buffer`; a multiple of 256 when the tensor is bound on its own. */
  readonly offset: number;
  /**
   * For pooled tensors: which acquisition of `buffer` this handle belongs to. A buffer goes back to the
   * pool and is handed out again under a new lease, so a stale handle cannot free its new owner.
   */
  readonly lease?: number;
}

export const BYTES_PER_ELEMENT: Record<DType, number> = { f32: 4, f16: 2 };

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`bad dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export function byteSize(shape: readonly number[], dtype: DType): number {
  return numel(shape) * BYTES_PER_ELEMENT[dtype];
}

/** Bytes a binding of this tensor needs: WebGPU requires binding sizes to be multiples of 4. */
export function bindingSize(t: Tensor): number {
  return Math.max(4, Math.ceil(byteSize(t.shape, t.dtype) / 4) * 4);
}

export function binding(t: Tensor): GPUBufferBinding {
  return { buffer: t.buffer, offset: t.offset, size: bindingSize(t) };
}

export function describe(t: Tensor): string {
  return `${t.dtype}[${t.shape.join('×')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
