/**
 * Strict validation of a safetensors header, following the format spec
 * (https://github.com/huggingface/safetensors#format) and the checks of its reference (Rust)
 * implementation: 8-byte little-endian u64 length N, N bytes of UTF-8 JSON starting with '{' (trailing
 * spaces allowed as alignment padding), a map name -> {dtype, shape, data_offsets:[begin, end]} plus
 * an optional "__metadata__" map of string -> string. Offsets are relative to the data section; sorted
 * by offset the tensors must tile it exactly (first begins at 0, each begins where the previous ended,
 * the last ends at the end of the file): no overlap, no holes, no trailing bytes.
 */
import { ModelFileError } from '../errors';
import { DTYPE_BYTES, isSafetensorsDtype, type SafetensorsDtype } from './dtype';

/** The reference implementation refuses headers over 100 MB; so do we (a real SDXL header is ~200 KB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Element count (1 for a 0-d tensor, the LoRA `alpha` scalars). */
  readonly numel: number;
  /** Byte offsets relative to the data section, end exclusive. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Bytes before the data section: 8 + N. */
  readonly dataStart: number;
  /** `__metadata__` (empty object when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors in data order (ascending offsets). */
  readonly tensors: readonly TensorInfo[];
}

/** Reads N from the first 8 bytes and checks it is sane and inside a file of `fileSize` bytes. */
export function parseHeaderLength(first8: Uint8Array, fileSize: number, file: string): number {
  if (first8.byteLength < 8 || fileSize < 8) {
    throw new ModelFileError('truncated', file, `the file has ${fileSize} bytes, fewer than the 8-byte header length`);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new ModelFileError('bad-header', file, `header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const len = Number(n);
  if (len < 2) throw new ModelFileError('bad-header', file, `header length ${len} is too small for a JSON object`);
  if (8 + len > fileSize) { // false for a stream of unknown length (Infinity)
    throw new ModelFileError('truncated', file, `header of ${len} bytes runs past the end of the ${fileSize}-byte file`);
  }
  return len;
}

function isUint(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function parseEntry(name: string, v: unknown, file: string): TensorInfo {
  const bad = (why: string) => new ModelFileError('bad-header', file, why, name);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('the header entry is not an object');
  const e = v as Record<string, unknown>;
  if (!isSafetensorsDtype(e.dtype)) {
    throw new ModelFileError('unsupported-dtype', file, `dtype ${JSON.stringify(e.dtype)} is not a safetensors dtype`, name);
  }
  if (!Array.isArray(e.shape) || !e.shape.every(isUint)) throw bad('shape is not a list of non-negative integers');
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !isUint(off[0]) || !isUint(off[1])) {
    throw bad('data_offsets is not [begin, end] of non-negative integers');
  }
  const [begin, end] = off as [number, number];
  if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before they begin`);
  const shape = e.shape as number[];
  let numel = 1;
  for (const d of shape) numel *= d;
  const bytes = numel * DTYPE_BYTES[e.dtype];
  if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
    throw new ModelFileError(
      'size-mismatch',
      file,
      `shape [${shape.join(', ')}] × ${e.dtype} is ${bytes} bytes but data_offsets span ${end - begin}`,
      name,
    );
  }
  return { name, dtype: e.dtype, shape, numel, begin, end };
}

/**
 * Validates the JSON header bytes (exactly N bytes, as read after the length) of a file of `fileSize`
 * bytes and returns the tensor table in data order.
 */
export function parseHeaderJson(json: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    throw new ModelFileError('bad-header', file, 'the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new ModelFileError('bad-header', file, 'the header does not start with "{"');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError('bad-header', file, `the header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelFileError('bad-header', file, 'the header is not a JSON object');
  }
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        throw new ModelFileError('bad-header', file, '__metadata__ is not an object');
      }
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') throw new ModelFileError('bad-header', file, `__metadata__.${k} is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    tensors.push(parseEntry(name, v, file));
  }
  // Data order; ties (zero-size tensors at one offset) by name, so the order is deterministic.
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end || (a.name < b.name ? -1 : 1));
  const dataStart = 8 + json.byteLength;
  let cursor = 0;
  for (const t of tensors) {
    if (t.begin < cursor) {
      throw new ModelFileError('bad-header', file, `data_offsets [${t.begin}, ${t.end}] overlap the previous tensor (ends at ${cursor})`, t.name);
    }
    if (t.begin > cursor) {
      throw new ModelFileError('bad-header', file, `data_offsets [${t.begin}, ${t.end}] leave a hole after byte ${cursor}`, t.name);
    }
    cursor = t.end;
  }
  // A stream of unknown length (size Infinity) defers these two checks to the reads themselves.
  const dataBytes = fileSize - dataStart;
  if (cursor > dataBytes) {
    const last = tensors[tensors.length - 1]!;
    throw new ModelFileError('truncated', file, `the data section has ${dataBytes} bytes but tensors need ${cursor}`, last.name);
  }
  if (cursor < dataBytes && Number.isFinite(fileSize)) {
    throw new ModelFileError('size-mismatch', file, `${dataBytes - cursor} bytes follow the last tensor (data ends at ${cursor} of ${dataBytes})`);
  }
  return { dataStart, metadata, tensors };
}
