/**
 * Test-only helpers for the small-op golden cases: a minimal F32 safetensors reader (the real,
 * streaming reader lives in src/model/safetensors) and the CPU linear and 3x3 conv that surround the
 * kernels under test in those cases, computed in f64.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));

export interface HostArray {
  shape: number[];
  data: Float32Array;
}

/** All tensors of a safetensors file (F32 only): 8-byte LE header length, JSON header, raw data. */
export function readSafetensors(relPath: string): Map<string, HostArray> {
  const bytes = readFileSync(GOLDEN_DIR + relPath);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLen;
  const out = new Map<string, HostArray>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F32') throw new Error(`${relPath}: ${name} is ${info.dtype}; this test reader reads F32 only`);
    const [start, end] = info.data_offsets;
    const copy = bytes.subarray(base + start, base + end).slice(); // aligned copy
    out.set(name, { shape: info.shape, data: new Float32Array(copy.buffer, copy.byteOffset, (end - start) / 4) });
  }
  return out;
}

export function tensor(map: Map<string, HostArray>, name: string): HostArray {
  const t = map.get(name);
  if (!t) throw new Error(`tensor ${name} is missing (have ${[...map.keys()].join(', ')})`);
  return t;
}

/** y = x·Wᵀ + b for x [rows, in], W [out, in] (torch.nn.Linear). */
export function linearCpu(x: ArrayLike<number>, rows: number, w: HostArray, b: HostArray): Float32Array {
  const [outF, inF] = w.shape as [number, number];
  const y = new Float32Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b.data[o]!;
      for (let i = 0; i < inF; i++) s += x[r * inF + i]! * w.data[o * inF + i]!;
      y[r * outF + o] = s;
    }
  }
  return y;
}

/** Conv2d(k×k, stride 1, padding k/2, bias) on NCHW x [n, c, h, w] with W [o, c, k, k]. */
export function conv2dSameCpu(x: ArrayLike<number>, shape: readonly number[], w: HostArray, b: HostArray): Float32Array {
  const [n, c, h, wd] = shape as [number, number, number, number];
  const [o, , k] = w.shape as [number, number, number, number];
  const pad = Math.floor(k / 2);
  const y = new Float32Array(n * o * h * wd);
  for (let bn = 0; bn < n; bn++) {
    for (let oc = 0; oc < o; oc++) {
      for (let oy = 0; oy < h; oy++) {
        for (let ox = 0; ox < wd; ox++) {
          let s = b.data[oc]!;
          for (let ic = 0; ic < c; ic++) {
            for (let ky = 0; ky < k; ky++) {
              const iy = oy + ky - pad;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < k; kx++) {
                const ix = ox + kx - pad;
                if (ix < 0 || ix >= wd) continue;
                s += x[((bn * c + ic) * h + iy) * wd + ix]! * w.data[((oc * c + ic) * k + ky) * k + kx]!;
              }
            }
          }
          y[((bn * o + oc) * h + oy) * wd + ox] = s;
        }
      }
    }
  }
  return y;
}
