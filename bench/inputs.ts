/** Bench inputs from an ONNX sidecar: the same seeded random tensors go to our kernels and to the peer. */

export interface SidecarInput {
  name: string;
  /** Symbolic dims (the tiny UNet's `batch`) are strings. */
  shape: (number | string)[];
  role: 'activation' | 'weight';
  suggested_random_init?: string;
}

export interface Sidecar {
  name: string;
  inputs: SidecarInput[];
  outputs: { name: string; shape: number[] }[];
  flops: number;
}

/** Box-Muller normal samples from a seeded mulberry32 stream. */
function normals(n: number, seed: number, std: number, mean: number): Float32Array {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const th = 2 * Math.PI * uniform();
    out[i] = mean + std * r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(th);
  }
  return out;
}

/** Follows the sidecar's suggested init: N(0,1/fan_in) for ≥2-D weights, 1+0.1·N for norm scales, etc. */
export function makeInput(input: SidecarInput, seed: number): Float32Array {
  const n = input.shape.reduce<number>((a, b) => a * (typeof b === 'number' ? b : 2), 1);
  const init = input.suggested_random_init ?? 'N(0,1)';
  const frac = /N\(0,\s*1\/(\d+)\)/.exec(init);
  if (frac) return normals(n, seed, Math.sqrt(1 / Number(frac[1])), 0);
  if (/^1\s*\+\s*0\.1/.test(init)) return normals(n, seed, 0.1, 1);
  if (/0\.1\s*[·*x]?\s*N/.test(init)) return normals(n, seed, 0.1, 0);
  if (input.role === 'weight' && input.shape.length >= 2) {
    const fanIn = input.shape.slice(1).reduce<number>((a, b) => a * (typeof b === 'number' ? b : 2), 1);
    return normals(n, seed, Math.sqrt(1 / fanIn), 0);
  }
  return normals(n, seed, 1, 0);
}
