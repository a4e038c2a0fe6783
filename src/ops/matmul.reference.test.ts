import { describe, expect, it } from 'vitest';
import { chooseSplitK, chooseTile, matmulProblem, TILE_128, TILE_32X8, TILE_64X8 } from './matmul';
import { linearReference, matmulReference } from './matmul.reference';

describe('matmulReference', () => {
  // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154] (by hand: 1·7+2·9+3·11 = 58, ...)
  const a = [1, 2, 3, 4, 5, 6];
  const b = [7, 8, 9, 10, 11, 12];

  it('computes a hand-checked 2×3 · 3×2 product', () => {
    const r = matmulReference(a, [2, 3], b, [3, 2]);
    expect(r.shape).toEqual([2, 2]);
    expect(Array.from(r.data)).toEqual([58, 64, 139, 154]);
  });

  it('reads transposed operands, scales by alpha and adds the bias after the scale', () => {
    const aT = [1, 4, 2, 5, 3, 6]; // A stored [3, 2]
    const bT = [7, 9, 11, 8, 10, 12]; // B stored [2, 3]
    const r = matmulReference(aT, [3, 2], bT, [2, 3], { transA: true, transB: true, alpha: 0.5, bias: [1, -1] });
    expect(Array.from(r.data)).toEqual([30, 31, 70.5, 76]);
  });

  it('broadcasts a 2-D operand over the batch and keeps batches apart', () => {
    const r = matmulReference([...a, ...a.map((x) => -x)], [2, 2, 3], b, [3, 2]);
    expect(r.shape).toEqual([2, 2, 2]);
    expect(Array.from(r.data)).toEqual([58, 64, 139, 154, -58, -64, -139, -154]);
    const bb = matmulReference(a, [2, 3], [...b, ...b], [2, 3, 2]);
    expect(Array.from(bb.data)).toEqual([58, 64, 139, 154, 58, 64, 139, 154]);
  });

  it('linearReference is x · Wᵀ + b with W as [out, in]', () => {
    const w = [7, 9, 11, 8, 10, 12]; // [out=2, in=3]
    const r = linearReference(a, [1, 2, 3], w, [2, 3], [0.5, 0.25]);
    expect(r.shape).toEqual([1, 2, 2]);
    expect(Array.from(r.data)).toEqual([58.5, 64.25, 139.5, 154.25]);
  });
});

describe('matmul shape rules and variant policy', () => {
  it('describes the problem and names mismatches', () => {
    expect(matmulProblem([4, 77, 2048], [640, 2048], false, true)).toMatchObject({
      batch: 4, M: 77, K: 2048, N: 640, strideA: 77 * 2048, strideB: 0, outShape: [4, 77, 640],
    });
    expect(() => matmulProblem([2, 3], [4, 5])).toThrow(/inner dimensions 3 and 4/);
    expect(() => matmulProblem([2, 2, 3], [3, 3, 2])).toThrow(/batch dimensions differ/);
  });

  it('splits K only for thin outputs on GPU adapters, and picks 8×8-per-thread tiles', () => {
    const thin = matmulProblem([77, 2048], [2048, 640]);
    const big = matmulProblem([4096, 640], [640, 5120]);
    expect(chooseTile(big, false)).toBe(TILE_128);
    expect(chooseTile(big, true)).toBe(TILE_64X8);
    // a CPU adapter with few 64×64 tiles takes the 32×32 one (a small model's feed-forward)
    expect(chooseTile(matmulProblem([512, 32], [32, 256]), true)).toBe(TILE_32X8);
    expect(chooseTile(matmulProblem([512, 32], [32, 256]), false)).toBe(TILE_64X8);
    expect(chooseTile(thin, false)).toBe(TILE_64X8);
    const s = chooseSplitK(thin, TILE_64X8, false);
    expect(s).toBeGreaterThan(1);
    expect(2048 / s).toBeGreaterThanOrEqual(128);
    expect(chooseSplitK(thin, TILE_64X8, true)).toBe(1);
    expect(chooseSplitK(big, TILE_128, false)).toBe(1);
  });
});
