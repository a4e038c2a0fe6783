/**
 * Seeded Gaussian noise for latents and ancestral steps: the same seed gives the same image on every
 * machine and browser (pure integer arithmetic + f64 Box–Muller, no platform RNG).
 *
 * Generator: xoshiro128** (Blackman & Vigna 2018), state seeded by splitmix32 from the 32-bit seed and
 * a stream id, so the initial latents (stream 0) and each ancestral step's noise (stream 1 + step) are
 * independent and a step's noise does not depend on how many values earlier steps drew. Normals:
 * Box–Muller on two 32-bit uniforms in (0, 1]. This is not torch's mt19937 stream (diffusers images
 * for a seed are not reproduced; the studio's own seeds are).
 */

export const MAX_SEED = 0xffffffff;

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export class NoiseStream {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number, stream = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new RangeError(`seed must be an integer 0..${MAX_SEED}, got ${seed}`);
    const st = { s: (seed ^ Math.imul(stream + 1, 0x632be5ab)) | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // the all-zero state is a fixed point
  }

  /** The next uniform 32-bit integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c = (this.c ^ t) >>> 0;
    this.d = rotl(this.d >>> 0, 11);
    this.a >>>= 0;
    this.b >>>= 0;
    return result;
  }

  /** A uniform in (0, 1]: never 0, so log() below is finite. */
  uniform(): number {
    return (this.nextUint32() + 1) / 4294967296;
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }
}

/** Initial latents x_T ~ N(0, I) for a seed (stream 0). The caller multiplies by init_noise_sigma. */
export function initialNoise(seed: number, n: number): Float32Array {
  return new NoiseStream(seed, 0).normals(n);
}

/** The fresh noise an ancestral sampler adds at step i (stream 1 + i). */
export function stepNoise(seed: number, step: number, n: number): Float32Array {
  return new NoiseStream(seed, 1 + step).normals(n);
}

/** A random seed for "randomize" (crypto when available, so two tabs do not collide). */
export function randomSeed(): number {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.getRandomValues) return c.getRandomValues(new Uint32Array(1))[0]!;
  return Math.floor(Math.random() * MAX_SEED);
}
