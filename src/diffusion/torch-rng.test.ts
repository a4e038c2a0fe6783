/**
 * torch's CPU noise (torch-rng.ts) against torch 1.13.1's own `torch.randn` (src/golden/fixtures/
 * torch-randn.json, a subset of ../shared/golden/torch_randn.json): every value's f32 bits must be equal.
 * Both code paths: n < 16 (scalar normal_distribution<double>) and n ≥ 16 (16-wide Box–Muller over
 * float uniforms), its tail (572 values, not a multiple of 16) and an SDXL 1024² latent (65,536 values:
 * first and last 64 values and the f64 sums).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fmaf } from './torch-avx-math';
import { TorchGenerator, torchRandn } from './torch-rng';

interface RandnCase {
  seed: string;
  shape: number[];
  values?: number[];
  first?: number[];
  last?: number[];
  sum_f64?: number;
  sum_sq_f64?: number;
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../golden/fixtures/torch-randn.json'), 'utf8')) as { cases: RandnCase[] };
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const bitsOf = (v: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(v).buffer));
const randn = (seed: string, n: number) => torchRandn(new TorchGenerator(BigInt(seed)), n);

describe('torch CPU randn, bit for bit against torch 1.13.1', () => {
  const full = fixture.cases.filter((c) => c.values);
  const paths = [
    ['n < 16: scalar normal_distribution<double>', (n: number) => n < 16],
    ['n ≥ 16, a multiple of 16: 16-wide Box–Muller', (n: number) => n >= 16 && n % 16 === 0],
    ['n ≥ 16, not a multiple of 16: the last 16 redrawn', (n: number) => n >= 16 && n % 16 !== 0],
  ] as const;
  for (const [path, takes] of paths) {
    const cases = full.filter((c) => takes(count(c.shape)));
    it(`${path} (${cases.length} cases)`, () => {
      expect(cases.length).toBeGreaterThanOrEqual(6);
      for (const c of cases) {
        const got = randn(c.seed, count(c.shape));
        expect(bitsOf(got), `seed ${c.seed} shape [${c.shape}]`).toEqual(bitsOf(c.values!));
      }
    });
  }

  it('an SDXL 1024² latent [1,4,128,128]: first and last 64 values exact, sums of all 65,536', () => {
    const big = fixture.cases.filter((c) => c.first);
    expect(big.length).toBe(6);
    for (const c of big) {
      const n = count(c.shape);
      const got = randn(c.seed, n);
      expect(bitsOf(got.subarray(0, 64)), `seed ${c.seed} first`).toEqual(bitsOf(c.first!));
      expect(bitsOf(got.subarray(n - 64)), `seed ${c.seed} last`).toEqual(bitsOf(c.last!));
      let sum = 0;
      let sumSq = 0;
      for (const v of got) {
        sum += v;
        sumSq += v * v;
      }
      // The reference's plain sum is reproduced exactly by a left-to-right f64 sum; its sum of squares was
      // added in another order (measured |Δ| ≤ 3.4e-9, f64 order noise at Σ ≈ 66,000). A single value off
      // by one f32 ulp would move the sum by ≥ 1e-9 for |v| ≥ 0.01, and the sum of squares by ~1e-7.
      expect(sum, `seed ${c.seed} sum`).toBe(c.sum_f64);
      expect(Math.abs(sumSq - c.sum_sq_f64!), `seed ${c.seed} sum of squares`).toBeLessThan(1e-8);
    }
  });

  it('continues the stream across calls as torch does (the generator owns all state)', () => {
    const byShape = (seed: string, n: number) => fixture.cases.find((c) => c.seed === seed && count(c.shape) === n)!.values!;
    for (const seed of ['0', '42', '18446744073709551615']) {
      // Box–Muller blocks use their own 16 uniforms, so 16 + 240 values drawn in two calls are the 256.
      const g = new TorchGenerator(BigInt(seed));
      const two = [...torchRandn(g, 16), ...torchRandn(g, 240)];
      expect(bitsOf(two)).toEqual(bitsOf(byShape(seed, 256)));
      // The scalar path keeps r·sin θ in the generator: 3 then 4 values are the same 7 values.
      const h = new TorchGenerator(BigInt(seed));
      const split = [...torchRandn(h, 3), ...torchRandn(h, 4)];
      expect(bitsOf(split)).toEqual(bitsOf(byShape(seed, 7)));
    }
  });

  it('the engine is the standard mt19937: the 10,000th word from seed 5489 is 4123659995 (C++ [rand.predef])', () => {
    const g = new TorchGenerator(5489);
    let v = 0;
    for (let i = 0; i < 10_000; i++) v = g.nextUint32();
    expect(v).toBe(4123659995);
  });

  it('seeds: only the low 32 bits reach mt19937; numbers and bigints agree; bad seeds and counts are refused', () => {
    const a = torchRandn(new TorchGenerator(7), 20);
    expect(bitsOf(torchRandn(new TorchGenerator(7n + (5n << 32n)), 20))).toEqual(bitsOf(a));
    expect(bitsOf(torchRandn(new TorchGenerator(2 ** 32 + 7), 20))).toEqual(bitsOf(a));
    expect(() => new TorchGenerator(-1)).toThrow(RangeError);
    expect(() => new TorchGenerator(1n << 64n)).toThrow(RangeError);
    expect(() => new TorchGenerator(1.5)).toThrow(RangeError);
    expect(() => torchRandn(new TorchGenerator(0), -1)).toThrow(RangeError);
    expect(() => torchRandn(new TorchGenerator(0), 2.5)).toThrow(RangeError);
    expect(torchRandn(new TorchGenerator(0), 0)).toHaveLength(0);
  });
});

/** round_f32(a·b + c) computed exactly with BigInt rationals (the plain reference for fmaf). */
function fmafExact(a: number, b: number, c: number): number {
  const SHIFT = 320n; // every f32 product and sum is an integer multiple of 2^-320
  const scaled = (x: number): bigint => {
    const [m, e] = frexp24(x);
    return BigInt(m) << (BigInt(e) + SHIFT);
  };
  const exact = (scaled(a) * scaled(b)) / (1n << SHIFT) + scaled(c); // the division is exact (e ≥ −149)
  if (exact === 0n) return 0;
  const neg = exact < 0n;
  let mag = neg ? -exact : exact;
  // Keep 24 significant bits (no subnormal or overflow results in the cases below), ties to even.
  const bitsLen = mag.toString(2).length;
  const drop = BigInt(Math.max(0, bitsLen - 24));
  let q = mag >> drop;
  const rem = mag - (q << drop);
  const half = drop > 0n ? 1n << (drop - 1n) : 0n;
  if (drop > 0n && (rem > half || (rem === half && (q & 1n) === 1n))) q += 1n;
  mag = q;
  const v = Number(mag) * 2 ** (Number(drop) - Number(SHIFT));
  return neg ? -v : v;
}

/** x = m·2^e with m an integer of at most 24 bits (x an f32). */
function frexp24(x: number): [number, number] {
  if (x === 0) return [0, 0];
  let e = Math.floor(Math.log2(Math.abs(x))) - 23;
  e = Math.max(e, -149);
  return [x / 2 ** e, e];
}

describe('fmaf (the fused multiply-add GCC emits in avx_mathfun)', () => {
  it('rounds once, also where the f64 sum lands exactly on an f32 midpoint', () => {
    const u = 2 ** -23;
    // a·b = ±(2^-24 − 2^-70): the f64 sum rounds onto the midpoint, the exact sum lies beside it.
    const ties: [number, number, number][] = [
      [1 + u, (1 - u) * 2 ** -24, 1 + u],
      [-(1 + u), (1 - u) * 2 ** -24, 1 + 3 * u],
    ];
    for (const [a, b, c] of ties) {
      expect(Math.fround(a * b + c)).not.toBe(fmafExact(a, b, c)); // naive double rounding is wrong here
      expect(fmaf(a, b, c)).toBe(fmafExact(a, b, c));
    }
    let s = 12345;
    const rnd = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return Math.fround(((s >>> 8) / 2 ** 24 - 0.5) * 2 ** ((s & 15) - 8));
    };
    for (let i = 0; i < 2000; i++) {
      const [a, b, c] = [rnd(), rnd(), rnd()];
      expect(fmaf(a, b, c), `fmaf(${a}, ${b}, ${c})`).toBe(fmafExact(a, b, c));
    }
  });
});
