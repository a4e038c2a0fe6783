/**
 * torch's CPU random generator, bit for bit: `torch.Generator().manual_seed(seed)` and
 * `torch.randn(shape, generator=g, dtype=torch.float32)` as ComfyUI (its default noise) and A1111 ("RNG
 * source: CPU") draw initial latents, so a PNG from those tools regenerates the same noise here.
 * Reference: ../shared/golden/torch_randn.json (torch 1.13.1, x86-64 with AVX2); the subset the tests
 * need is src/golden/fixtures/torch-randn.json.
 *
 * What torch does (read from ATen; this is our own rewrite):
 * - Engine (ATen/core/MT19937RNGEngine.h): plain mt19937 (Matsumoto & Nishimura 1998), state[0] = the
 *   seed's low 32 bits, the standard Knuth initialisation multiplier 1812433253. `random()` is one
 *   tempered word; `random64()` is two, the first as the high half (CPUGeneratorImpl).
 * - Uniforms (ATen/core/TransformationHelper.h `uniform_real`): float takes the low 24 bits of one word
 *   × 2^-24; double the low 53 bits of random64() × 2^-53. Both in [0, 1).
 * - randn of n < 16 values (or non-float dtypes) (DistributionTemplates.h `normal_kernel`, serial path):
 *   each value is `normal_distribution<double>` (DistributionsHelper.h): Box–Muller on two double
 *   uniforms u1 (angle) and u2 (radius, via log1p(-u2)); it returns r·cos θ and caches r·sin θ *in the
 *   generator* for the next scalar normal draw, cast to float.
 * - randn of n ≥ 16 float values (`normal_fill_AVX2`): first n float uniforms into the output, then
 *   16-value blocks: u1 = 1 − data[j], u2 = data[j + 8] for j < 8, radius = √(−2·log u1),
 *   θ = 2π·u2, data[j] = radius·cos θ, data[j + 8] = radius·sin θ. When n is not a multiple of 16 the
 *   last 16 values are overwritten: 16 *fresh* uniforms are drawn and one more block transformed there.
 *   log/sin/cos are the single-precision Cephes polynomials of avx_mathfun.h, not libm; they are
 *   reproduced operation by operation, fused multiply-adds included, in torch-avx-math.ts.
 * - The double path uses libm's log1p/sin/cos (glibc); JS's are fdlibm's. Both are within 1 ulp of a
 *   double, so the float result differs only when a value sits within 2^-29 relative of a float
 *   rounding boundary; none of the reference cases does.
 * - Scope: x86-64 builds with AVX2 (torch dispatches normal_fill to AVX2 even on AVX-512 CPUs). Other
 *   CPUs (arm64, e.g. Apple Silicon) run the scalar normal_fill with libm's logf/cosf/sinf, whose last
 *   bits differ from these polynomials in ~40% of the values (measured against the same reference).
 */

import { avxLogf, avxSincosf, TWO_PI } from './torch-avx-math';

const f32 = Math.fround;

/** The seed range torch accepts (`manual_seed` takes a uint64; only its low 32 bits reach mt19937). */
export const TORCH_MAX_SEED = (1n << 64n) - 1n;

const N = 624;
const M = 397;

/** torch.Generator on the CPU: an mt19937 plus the cached second Box–Muller sample of the double path. */
export class TorchGenerator {
  private readonly state = new Uint32Array(N);
  private next = 0;
  private left = 1;
  /** r·sin θ left over from the last scalar normal draw (CPUGeneratorImpl::next_double_normal_sample). */
  private cachedNormal: number | null = null;

  /** `torch.Generator().manual_seed(seed)`: seed is an integer in 0..2^64−1 (number or bigint). */
  constructor(seed: number | bigint) {
    const s = typeof seed === 'bigint' ? seed : Number.isSafeInteger(seed) ? BigInt(seed) : -1n;
    if (s < 0n || s > TORCH_MAX_SEED) throw new RangeError(`torch seed must be an integer 0..2^64-1, got ${String(seed)}`);
    this.state[0] = Number(BigInt.asUintN(32, s));
    for (let i = 1; i < N; i++) {
      const p = this.state[i - 1]!;
      this.state[i] = (Math.imul(1812433253, p ^ (p >>> 30)) + i) >>> 0;
    }
  }

  /** Regenerates all 624 words (the mt19937 "twist"). */
  private twist(): void {
    const s = this.state;
    for (let i = 0; i < N; i++) {
      const y = (s[i]! & 0x80000000) | (s[(i + 1) % N]! & 0x7fffffff);
      s[i] = s[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.left = N;
    this.next = 0;
  }

  /** `random()`: the next tempered 32-bit word. */
  nextUint32(): number {
    if (--this.left === 0) this.twist();
    let y = this.state[this.next++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `uniform_real_distribution<float>(0, 1)`: the low 24 bits of one word × 2^-24 (exact in f32). */
  uniformFloat(): number {
    return (this.nextUint32() & 0xffffff) / 0x1000000;
  }

  /** `uniform_real_distribution<double>(0, 1)`: the low 53 bits of random64() (hi word first) × 2^-53. */
  uniformDouble(): number {
    const hi = this.nextUint32() & 0x1fffff;
    const lo = this.nextUint32();
    return (hi * 0x100000000 + lo) / 2 ** 53;
  }

  /** `normal_distribution<double>(0, 1)`: Box–Muller, the sine half kept for the next call. */
  normalDouble(): number {
    if (this.cachedNormal !== null) {
      const v = this.cachedNormal;
      this.cachedNormal = null;
      return v;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** normal_fill_16_AVX2 with mean 0, std 1: 8 Box–Muller pairs over data[at..at+16) in place. */
function boxMuller16(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f32(1 - data[at + j]!); // [0, 1) → (0, 1] for the log
    const u2 = data[at + j + 8]!;
    const radius = f32(Math.sqrt(f32(-2 * avxLogf(u1))));
    const { sin, cos } = avxSincosf(f32(TWO_PI * u2));
    // fmadd(n, std = 1, mean = 0) is exact: n + 0 (which only turns −0 into +0).
    data[at + j] = f32(radius * cos) + 0;
    data[at + j + 8] = f32(radius * sin) + 0;
  }
}

/**
 * `torch.randn(n, generator=gen, dtype=torch.float32)` on the CPU (any shape: only the element count
 * matters, values are in C order). Advances `gen` exactly as torch does, so later draws continue its
 * stream (diffusers' ancestral samplers draw step noise from the generator that made the latents).
 */
export function torchRandn(gen: TorchGenerator, n: number): Float32Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`torchRandn: element count must be a whole number ≥ 0, got ${n}`);
  const out = new Float32Array(n);
  if (n < 16) {
    for (let i = 0; i < n; i++) out[i] = gen.normalDouble();
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = gen.uniformFloat();
  for (let i = 0; i + 16 <= n; i += 16) boxMuller16(out, i);
  if (n % 16 !== 0) {
    const tail = n - 16;
    for (let i = 0; i < 16; i++) out[tail + i] = gen.uniformFloat();
    boxMuller16(out, tail);
  }
  return out;
}
