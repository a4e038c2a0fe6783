/**
 * A streaming safetensors reader. open() reads and validates only the header (header.ts); tensor data
 * is read on demand, one tensor or one bounded chunk at a time, so memory stays at the size of the
 * largest request (never the file). Reading tensors in `tensors` order (ascending offsets) also works
 * on forward-only sources (http-source.ts StreamSource).
 */
import { ModelFileError } from '../errors';
import { convertBytes, DTYPE_BYTES, isFloatDtype, type FloatDtype, type TargetDtype } from './dtype';
import { parseHeaderJson, parseHeaderLength, type TensorInfo } from './header';
import type { ByteSource } from './source';

/** f32 values or f16 bit patterns, by target dtype. */
export type TensorData<T extends TargetDtype> = T extends 'f32' ? Float32Array<ArrayBuffer> : Uint16Array<ArrayBuffer>;

export interface TensorChunk<T extends TargetDtype> {
  /** Index of data[0] within the tensor (row-major), in elements. */
  readonly elementOffset: number;
  readonly data: TensorData<T>;
}

/** Default chunk bound: 16 MiB of stored bytes per read. */
export const DEFAULT_CHUNK_BYTES = 16 << 20;

export class SafetensorsFile {
  private readonly byName: Map<string, TensorInfo>;

  private constructor(
    readonly source: ByteSource,
    /** File offset of the data section (8 + header length). */
    readonly dataStart: number,
    readonly metadata: Readonly<Record<string, string>>,
    /** Every tensor, in data order (ascending offsets). */
    readonly tensors: readonly TensorInfo[],
  ) {
    this.byName = new Map(tensors.map((t) => [t.name, t]));
  }

  /** Reads the 8-byte length and the JSON header and validates them against the source's size. */
  static async open(source: ByteSource): Promise<SafetensorsFile> {
    if (source.size < 8) parseHeaderLength(new Uint8Array(0), source.size, source.name);
    const len = parseHeaderLength(await source.read(0, 8), source.size, source.name);
    const header = parseHeaderJson(await source.read(8, len), source.size, source.name);
    return new SafetensorsFile(source, header.dataStart, header.metadata, header.tensors);
  }

  get name(): string {
    return this.source.name;
  }

  names(): string[] {
    return this.tensors.map((t) => t.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): TensorInfo | undefined {
    return this.byName.get(name);
  }

  /** The tensor's header entry, or a `missing-tensor` error naming file and tensor. */
  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new ModelFileError('missing-tensor', this.name, 'the tensor is not in the file', name);
    return t;
  }

  /** The tensor's entry after checking its shape; a different shape is `wrong-model`. */
  expectShape(name: string, shape: readonly number[]): TensorInfo {
    const t = this.info(name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError('wrong-model', this.name, `shape is [${t.shape.join(', ')}], expected [${shape.join(', ')}]`, name);
    }
    return t;
  }

  /** Stored bytes of elements [start, start + count) of a tensor (any dtype). */
  async readBytes(name: string, start = 0, count?: number): Promise<Uint8Array<ArrayBuffer>> {
    const t = this.info(name);
    const n = count ?? t.numel - start;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(n) || start < 0 || n < 0 || start + n > t.numel) {
      throw new RangeError(`${this.name}: elements [${start}, ${start + n}) are outside tensor "${name}" (${t.numel})`);
    }
    const es = DTYPE_BYTES[t.dtype];
    return this.source.read(this.dataStart + t.begin + start * es, n * es);
  }

  /** The whole tensor as f32 values or f16 bits (F32, F16 and BF16 files). */
  read<T extends TargetDtype>(name: string, to: T): Promise<TensorData<T>> {
    return this.readSlice(name, to, 0, this.info(name).numel);
  }

  /**
   * Elements [start, start + count) in row-major order (a row block of a matrix is contiguous: used to
   * split OpenCLIP's fused in_proj into q/k/v without reading it three times whole).
   */
  async readSlice<T extends TargetDtype>(name: string, to: T, start: number, count: number): Promise<TensorData<T>> {
    const dtype = this.floatDtype(name);
    const bytes = await this.readBytes(name, start, count);
    return convertBytes(bytes, dtype, to) as TensorData<T>;
  }

  /**
   * The tensor in element-aligned chunks of at most `maxBytes` stored bytes, in order: what a GPU
   * loader writes to its buffer at `elementOffset × target size`, keeping host memory bounded.
   */
  async *chunks<T extends TargetDtype>(name: string, to: T, maxBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<TensorChunk<T>> {
    const t = this.info(name);
    const dtype = this.floatDtype(name);
    const per = Math.max(1, Math.floor(maxBytes / DTYPE_BYTES[dtype]));
    for (let start = 0; start < t.numel; start += per) {
      const count = Math.min(per, t.numel - start);
      const data = convertBytes(await this.readBytes(name, start, count), dtype, to) as TensorData<T>;
      yield { elementOffset: start, data };
    }
  }

  /** A one-element tensor (shape [] or [1]) as a number, e.g. a LoRA `alpha`. */
  async readScalar(name: string): Promise<number> {
    const t = this.info(name);
    if (t.numel !== 1) throw new ModelFileError('wrong-model', this.name, `expected one element, found shape [${t.shape.join(', ')}]`, name);
    return (await this.read(name, 'f32'))[0]!;
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }

  private floatDtype(name: string): FloatDtype {
    const t = this.info(name);
    if (!isFloatDtype(t.dtype)) {
      throw new ModelFileError('unsupported-dtype', this.name, `dtype ${t.dtype} cannot be read as floats (F32, F16 or BF16 only)`, name);
    }
    return t.dtype;
  }
}
