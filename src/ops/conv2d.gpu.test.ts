import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { DType, Tensor } from '../gpu/tensor';
import type { GpuContext } from '../gpu/context';
import { conv2d, conv2dOutputSize, type Conv2dTuning } from './conv2d';
import { conv2dReference } from './conv2d.reference';

interface Case {
  name: string;
  x: [number, number, number, number];
  cout: number;
  k: 1 | 3;
  stride: number;
  bias?: boolean;
  residual?: boolean;
  tuning?: Conv2dTuning;
  /** Zero rows [above, below] instead of the symmetric padding (a band of a taller image). */
  rowPadding?: [number, number];
}

// Odd shapes on purpose: no dimension is a multiple of the 64×64 tile or of the K-slice.
const CASES: Case[] = [
  { name: '1×1', x: [2, 3, 7, 5], cout: 5, k: 1, stride: 1 },
  { name: '3×3 s1', x: [2, 3, 7, 5], cout: 5, k: 3, stride: 1 },
  { name: '3×3 s2', x: [2, 3, 7, 5], cout: 5, k: 3, stride: 2 },
  { name: '1×1', x: [1, 17, 13, 19], cout: 9, k: 1, stride: 1 },
  { name: '3×3 s1', x: [1, 17, 13, 19], cout: 9, k: 3, stride: 1 },
  { name: '3×3 s2', x: [1, 17, 13, 19], cout: 9, k: 3, stride: 2 },
  { name: '3×3 s1 + residual', x: [1, 17, 13, 19], cout: 9, k: 3, stride: 1, residual: true },
  { name: '3×3 s1, no bias', x: [2, 3, 7, 5], cout: 5, k: 3, stride: 1, bias: false },
  // two row tiles, two cout tiles, Cin over two 32-deep K-slices (the second one partial)
  { name: '3×3 s1, 2×2 tiles', x: [1, 40, 9, 11], cout: 70, k: 3, stride: 1 },
  { name: '3×3 s2 + residual, 2 cout tiles', x: [2, 40, 7, 6], cout: 70, k: 3, stride: 2, residual: true },
  // the 128×128 tile (16×16 threads), partial in both directions
  // bands of a taller image: a halo row from a neighbour instead of zero padding on one side or both
  { name: '3×3 s1, top band', x: [2, 5, 6, 9], cout: 7, k: 3, stride: 1, rowPadding: [1, 0] },
  { name: '3×3 s1, middle band + residual', x: [1, 17, 7, 13], cout: 9, k: 3, stride: 1, rowPadding: [0, 0], residual: true },
  { name: '3×3 s2, bottom band (pad end)', x: [1, 6, 7, 9], cout: 5, k: 3, stride: 2, rowPadding: [0, 1] },
  { name: '3×3 s1, 128-tile', x: [1, 20, 11, 13], cout: 131, k: 3, stride: 1, tuning: { threads: 16, bk: 16 } },
  // couts ≤ 32 take the 32×32 tile (4×4 threads) by default; the 64-tile still runs them when asked,
  // and the 32-tile runs two cout tiles with a K-slice of 12 (Cin 20: one full slice and a partial one)
  { name: '3×3 s1, 64-tile on few couts', x: [1, 17, 13, 19], cout: 9, k: 3, stride: 1, tuning: { threads: 8, bk: 16 } },
  { name: '3×3 s1 + residual, 32-tile, 2 cout tiles', x: [2, 20, 9, 7], cout: 40, k: 3, stride: 1, residual: true, tuning: { threads: 4, bk: 12 } },
];

function caseData(c: Case, seed: number) {
  const [n, cin, h, w] = c.x;
  const pad = c.k === 3 ? 1 : 0;
  const [ho, wo] = conv2dOutputSize(h, w, c.k, c.k, c.stride, pad, 0, c.rowPadding);
  const outShape = [n, c.cout, ho, wo];
  const fanIn = cin * c.k * c.k;
  return {
    pad,
    outShape,
    x: randomArray(n * cin * h * w, seed),
    w: randomArray(c.cout * fanIn, seed + 1, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)),
    bias: c.bias === false ? null : randomArray(c.cout, seed + 2, -0.5, 0.5),
    residual: c.residual ? randomArray(n * c.cout * ho * wo, seed + 3) : null,
  };
}

async function runCase(ctx: GpuContext, c: Case, dtype: DType, seed: number) {
  const d = caseData(c, seed);
  const wShape = [c.cout, c.x[1], c.k, c.k];
  const round = (a: Float32Array | null) => (a && dtype === 'f16' ? roundToF16(a) : a);
  const expected = conv2dReference(round(d.x)!, c.x, round(d.w)!, wShape, {
    stride: c.stride,
    padding: d.pad,
    ...(c.rowPadding ? { rowPadding: c.rowPadding } : {}),
    bias: round(d.bias),
    residual: round(d.residual),
  });
  const tensors: Tensor[] = [];
  const up = (a: Float32Array, shape: number[], label: string) => {
    const t = ctx.upload(a, shape, dtype, label);
    tensors.push(t);
    return t;
  };
  const x = up(d.x, [...c.x], 'x');
  const w = up(d.w, wShape, 'w');
  const bias = d.bias ? up(d.bias, [c.cout], 'bias') : null;
  const residual = d.residual ? up(d.residual, d.outShape, 'residual') : null;
  const got = await checked(ctx, `conv2d ${c.name}`, async () => {
    const y = await conv2d(ctx, x, w, { stride: c.stride, padding: d.pad, bias, residual, tuning: c.tuning, ...(c.rowPadding ? { rowPadding: c.rowPadding } : {}) });
    tensors.push(y);
    expect(y.shape).toEqual(expected.shape);
    return ctx.read(y);
  });
  ctx.release(...tensors);
  return compare(got, expected.data);
}

describe(`conv2d on ${TEST_ADAPTER}`, () => {
  it('matches the reference in f32 on odd shapes (1×1, 3×3 s1/s2, bias, residual, partial tiles)', async () => {
    const ctx = await testContext();
    let seed = 100;
    for (const c of CASES) {
      const r = await runCase(ctx, c, 'f32', (seed += 10));
      console.log(`conv2d f32 ${c.name} x=[${c.x.join(',')}]→${c.cout}: ${describeComparison(r)}`);
      expect(r.maxRel, c.name).toBeLessThanOrEqual(1e-5);
    }
  });

  it('computes output sizes like PyTorch, stride 2 included', () => {
    expect(conv2dOutputSize(13, 19, 3, 3, 2, 1)).toEqual([7, 10]);
    expect(conv2dOutputSize(16, 24, 3, 3, 2, 1)).toEqual([8, 12]);
    expect(conv2dOutputSize(7, 5, 3, 3, 2, 1)).toEqual([4, 3]);
    expect(conv2dOutputSize(7, 5, 1, 1, 1, 0)).toEqual([7, 5]);
    // a middle band of 5 rows with a halo row on each side: 5 output rows, columns still padded
    expect(conv2dOutputSize(7, 5, 3, 3, 1, 1, 0, [0, 0])).toEqual([5, 5]);
    expect(conv2dOutputSize(7, 5, 3, 3, 2, 0, 1, [0, 1])).toEqual([3, 2]);
  });

  it('rejects mismatched shapes and impossible tilings with a message that names them', async () => {
    const ctx = await testContext();
    const x = ctx.upload(randomArray(2 * 3 * 7 * 5, 1), [2, 3, 7, 5], 'f32', 'x');
    const w = ctx.upload(randomArray(5 * 4 * 9, 2), [5, 4, 3, 3], 'f32', 'w');
    await expect(conv2d(ctx, x, w)).rejects.toThrow(/expects 4 input channels, x has 3/);
    const w3 = ctx.upload(randomArray(5 * 3 * 9, 3), [5, 3, 3, 3], 'f32', 'w3');
    await expect(conv2d(ctx, x, w3, { tuning: { threads: 16, bk: 32 } })).rejects.toThrow(/at most 16/);
    ctx.release(x, w, w3);
  });

  it('runs f16 storage with f32 accumulation where shader-f16 exists, and refuses it where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      let seed = 500;
      // dtype and tiling are independent structural choices: the 128-tile case stays f32-only (one compile less)
      for (const c of CASES.filter((k) => !k.tuning)) {
        const r = await runCase(ctx, c, 'f16', (seed += 10));
        console.log(`conv2d f16 ${c.name} x=[${c.x.join(',')}]→${c.cout}: ${describeComparison(r)}`);
        expect(r.maxRel, c.name).toBeLessThanOrEqual(3e-3);
      }
    } else {
      expect(ctx.hasF16).toBe(false);
      expect(() => ctx.upload(new Float32Array(4), [1, 1, 2, 2], 'f16', 'x16')).toThrow(FeatureMissingError);
      // An f16 tensor cannot exist here; a handle that claims to be one must still be refused by the op.
      const x = ctx.upload(new Float32Array(4), [1, 1, 2, 2], 'f32', 'x');
      const w = ctx.upload(new Float32Array(9), [1, 1, 3, 3], 'f32', 'w');
      const fake = (t: Tensor): Tensor => ({ ...t, dtype: 'f16' });
      await expect(conv2d(ctx, fake(x), fake(w))).rejects.toThrow(FeatureMissingError);
      ctx.release(x, w);
    }
  });
});
