// Unit tests (no GPU) of the elementwise/softmax/reduction references and of the op-side index
// logic that the kernels rely on (broadcast collapsing, threads per row).
import { describe, expect, it } from 'vitest';
import { rng } from '../../tests/numeric';
import { broadcastLayout, broadcastShapes, MAX_BROADCAST_DIMS } from './elementwise';
import { activation64, binaryReference, broadcastShapeReference, erf64 } from './elementwise.reference';
import { rowSumReference, softmaxReference, sum64 } from './reductions.reference';
import { threadsPerRow } from './softmax';

describe('erf64 and the activation references', () => {
  it('match published values of erf to 1e-15', () => {
    // Abramowitz & Stegun table 7.1 / any CAS.
    const table: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [-2.5, -0.999593047982555],
      [3, 0.9999779095030014],
    ];
    for (const [x, want] of table) expect(Math.abs(erf64(x) - want), `erf(${x})`).toBeLessThanOrEqual(1e-15);
    expect(erf64(7)).toBe(1);
    expect(erf64(-7)).toBe(-1);
  });

  it('match published values of GELU, tanh-GELU, SiLU and quick-GELU', () => {
    const cases: [Parameters<typeof activation64>[0], number, number][] = [
      ['gelu', 1, 0.8413447460685429],
      ['gelu', -1, -0.15865525393145707],
      ['gelu', -3, -0.00404969409489031],
      ['gelu_tanh', 1, 0.8411919906082768],
      ['silu', 1, 0.7310585786300049],
      ['quick_gelu', 1, 0.8457957659328212],
      ['quick_gelu', -2, -0.06434137685579186],
      ['erf', 0.5, 0.5204998778130465],
      ['none', -1.25, -1.25],
    ];
    for (const [act, x, want] of cases) expect(Math.abs(activation64(act, x) - want), `${act}(${x})`).toBeLessThanOrEqual(1e-15);
  });
});

describe('broadcasting', () => {
  it('follows numpy rules and rejects mismatches', () => {
    expect(broadcastShapes([9, 33], [33])).toEqual([9, 33]);
    expect(broadcastShapes([2, 5, 7, 3], [5, 1, 1])).toEqual([2, 5, 7, 3]);
    expect(broadcastShapes([3, 1], [1, 17])).toEqual([3, 17]);
    expect(broadcastShapes([], [4])).toEqual([4]);
    expect(() => broadcastShapes([2, 3], [4])).toThrow(RangeError);
    expect(() => broadcastShapes([2, 3], [3, 3])).toThrow(RangeError);
  });

  it('collapses contiguous dims: NCHW + [N,C,1,1] walks 2 dims, a same-shape op 1 dim', () => {
    expect(broadcastLayout([2, 5, 7, 3], [2, 5, 7, 3], [2, 5, 1, 1])).toEqual({
      dims: [21, 10],
      aStrides: [1, 21],
      bStrides: [0, 1],
    });
    expect(broadcastLayout([4, 6], [4, 6], [4, 6])).toEqual({ dims: [24], aStrides: [1], bStrides: [1] });
    expect(broadcastLayout([9, 33], [9, 33], [33])).toEqual({ dims: [33, 9], aStrides: [1, 33], bStrides: [1, 0] });
    expect(broadcastLayout([1, 1], [1, 1], [1])).toEqual({ dims: [1], aStrides: [1], bStrides: [1] });
  });

  it("indexes like the reference for random shapes up to 7-D (the shader's offset walk, on the CPU)", () => {
    const r = rng(42);
    const pick = (n: number) => Math.floor(r() * n);
    for (let trial = 0; trial < 300; trial++) {
      const rank = 1 + pick(7);
      const out = Array.from({ length: rank }, () => 1 + pick(4));
      const a = out.map((d) => (r() < 0.3 ? 1 : d)).slice(pick(2));
      const b = out.map((d) => (r() < 0.5 ? 1 : d)).slice(pick(rank));
      const shape = broadcastShapes(a, b);
      expect(shape).toEqual(broadcastShapeReference(a, b));
      const av = Array.from({ length: a.reduce((p, d) => p * d, 1) }, () => r());
      const bv = Array.from({ length: b.reduce((p, d) => p * d, 1) }, () => r());
      const layout = broadcastLayout(shape, a, b);
      expect(layout.dims.length).toBeLessThanOrEqual(MAX_BROADCAST_DIMS);
      const count = shape.reduce((p, d) => p * d, 1);
      const got = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        // Mirrors operand_offsets() in shaders/elementwise.wgsl.
        let rem = i;
        let oa = 0;
        let ob = 0;
        layout.dims.forEach((n, d) => {
          const c = rem % n;
          rem = Math.floor(rem / n);
          oa += c * layout.aStrides[d]!;
          ob += c * layout.bStrides[d]!;
        });
        got[i] = av[oa]! - bv[ob]!;
      }
      const want = binaryReference('sub', av, a, bv, b);
      expect(want.shape).toEqual(shape);
      expect(Array.from(got), `[${a}] - [${b}]`).toEqual(Array.from(want.data));
    }
  });

  it('binaryReference broadcasts both operands', () => {
    const { shape, data } = binaryReference('mul', [2, 3], [2, 1], [10, 100, 1000], [1, 3]);
    expect(shape).toEqual([2, 3]);
    expect(Array.from(data)).toEqual([20, 200, 2000, 30, 300, 3000]);
  });
});

describe('softmax and reduction references', () => {
  it('sum64 is compensated', () => {
    expect(sum64([1e16, 1, -1e16])).toBe(1);
    expect(sum64(new Array(1000).fill(0.1))).toBe(100);
  });

  it('softmaxReference normalises rows, is shift invariant and survives +1000 logits', () => {
    const x = [1, 2, 3, 1001, 1002, 1003];
    const y = softmaxReference(x, 3);
    for (let j = 0; j < 3; j++) expect(y[j]).toBeCloseTo(y[3 + j]!, 14);
    expect(y[0]! + y[1]! + y[2]!).toBeCloseTo(1, 15);
    expect(y[2]).toBeCloseTo(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)), 15);
    expect(Array.from(softmaxReference([5, 7], 1))).toEqual([1, 1]);
    expect(softmaxReference([1, 2], 2, 0)[0]).toBe(0.5);
  });

  it('rowSumReference sums and averages rows', () => {
    expect(Array.from(rowSumReference([1, 2, 3, 4, 5, 6], 3))).toEqual([6, 15]);
    expect(Array.from(rowSumReference([1, 2, 3, 4, 5, 6], 2, true))).toEqual([1.5, 3.5, 5.5]);
  });

  it('threadsPerRow picks a power of two no larger than the workgroup', () => {
    const got = [1, 3, 4, 5, 17, 77, 1000, 4097].map((c) => threadsPerRow(c, 4, 256));
    expect(got).toEqual([1, 1, 1, 2, 8, 32, 256, 256]);
    expect(threadsPerRow(4096, 16, 256)).toBe(256);
  });
});
