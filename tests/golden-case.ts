/**
 * A minimal safetensors reader for the golden per-op tests (F32 tensors only, whole file in memory).
 * Format (golden/README.md): u64 little-endian header length N, N bytes of JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}}, then the data section. The app's streaming
 * reader lives in src/model/safetensors; this one exists so that kernel tests do not depend on it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GoldenTensor {
  shape: number[];
  data: Float32Array;
}

export const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Every tensor of a safetensors file whose name starts with `prefix` (prefix removed from the key). */
export function readSafetensors(path: string, prefix = ''): Record<string, GoldenTensor> {
  const file = readFileSync(path);
  const bytes = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  const n = Number(new DataView(bytes).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 8, n))) as Record<string, HeaderEntry>;
  const base = 8 + n;
  const out: Record<string, GoldenTensor> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__' || !name.startsWith(prefix)) continue;
    if (entry.dtype !== 'F32') throw new Error(`${path}: tensor ${name} is ${entry.dtype}; only F32 is read here`);
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4) throw new Error(`${path}: tensor ${name} has ${end - begin} bytes for shape [${entry.shape}]`);
    out[name.slice(prefix.length)] = { shape: entry.shape, data: new Float32Array(bytes.slice(base + begin, base + end)) };
  }
  return out;
}

/** The tensors of golden/cases/<name>.safetensors (input.*, output*, intermediate.*). */
export function goldenCase(name: string): Record<string, GoldenTensor> {
  return readSafetensors(`${GOLDEN_DIR}cases/${name}.safetensors`);
}

/** The tiny UNet's weights under `prefix` (e.g. 'conv_norm_out.' gives {weight, bias}). */
export function unetWeights(prefix: string): Record<string, GoldenTensor> {
  const found = readSafetensors(`${GOLDEN_DIR}models/unet/diffusion_pytorch_model.safetensors`, prefix);
  if (Object.keys(found).length === 0) throw new Error(`no UNet weights start with "${prefix}"`);
  return found;
}

export function need(tensors: Record<string, GoldenTensor>, name: string): GoldenTensor {
  const t = tensors[name];
  if (!t) throw new Error(`golden tensor "${name}" is missing (have: ${Object.keys(tensors).join(', ')})`);
  return t;
}
