/**
 * Test-only reader for the training golden set (golden-training/README.md): safetensors files with F32
 * and I64 tensors (token ids, timesteps), and its manifest. The app's streaming reader takes floats
 * only; this one reads whole (small) files and returns every tensor as f32 values (I64 as numbers).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GOLDEN_TRAINING_DIR = fileURLToPath(new URL('../golden-training/', import.meta.url));
export const GOLDEN_MODELS_DIR = fileURLToPath(new URL('../golden/models/', import.meta.url));

export interface TrainingTensor {
  shape: number[];
  dtype: 'F32' | 'I64';
  data: Float32Array;
}

export function readTrainingSafetensors(relPath: string): Map<string, TrainingTensor> {
  const bytes = readFileSync(GOLDEN_TRAINING_DIR + relPath);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLen;
  const out = new Map<string, TrainingTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [start, end] = info.data_offsets;
    const copy = bytes.subarray(base + start, base + end).slice();
    if (info.dtype === 'F32') {
      out.set(name, { shape: info.shape, dtype: 'F32', data: new Float32Array(copy.buffer, copy.byteOffset, (end - start) / 4) });
    } else if (info.dtype === 'I64') {
      const ints = new BigInt64Array(copy.buffer, copy.byteOffset, (end - start) / 8);
      out.set(name, { shape: info.shape, dtype: 'I64', data: Float32Array.from(ints, (v) => Number(v)) });
    } else {
      throw new Error(`${relPath}: ${name} is ${info.dtype}; this reader takes F32 and I64`);
    }
  }
  return out;
}

export function need(map: ReadonlyMap<string, TrainingTensor>, name: string): TrainingTensor {
  const t = map.get(name);
  if (!t) throw new Error(`golden tensor ${name} is missing`);
  return t;
}

export interface TrainingManifest {
  cases: Record<string, { file: string; group?: string; tensors: Record<string, { shape: number[]; dtype: string }> }>;
  cidm_spec: {
    optimizer: {
      param_groups: { params: string; lr: number }[];
      betas: [number, number];
      eps: number;
      weight_decay: number;
    };
    [key: string]: unknown;
  };
}

export function readTrainingManifest(): TrainingManifest {
  return JSON.parse(readFileSync(GOLDEN_TRAINING_DIR + 'manifest.json', 'utf8')) as TrainingManifest;
}

/** The file of the first case in `group` that holds a tensor with this prefix (cases found by content). */
export function caseFileWith(manifest: TrainingManifest, group: string, prefix: string): string {
  for (const c of Object.values(manifest.cases)) {
    if (c.group === group && Object.keys(c.tensors).some((k) => k.startsWith(prefix))) return c.file;
  }
  throw new Error(`no ${group} case holds tensors named ${prefix}*`);
}
