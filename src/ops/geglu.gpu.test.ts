import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { geglu, gegluOutputShape } from './geglu';
import { erfReference, geluErfReference, gegluReference } from './small-ops.reference';

async function runGeglu(ctx: GpuContext, h: Tensor, vectorize: boolean): Promise<Float32Array> {
  return checked(ctx, `geglu ${h.dtype}[${h.shape.join('×')}] vec=${vectorize}`, async () => {
    const out = await geglu(ctx, h, { vectorize });
    const got = await ctx.read(out);
    ctx.release(out);
    return got;
  });
}

// Odd shapes: F odd (scalar only), F % 4 == 0 (vec4 and forced scalar), a single row, rank 3.
const SHAPES: number[][] = [
  [3, 7, 10],
  [13, 24],
  [1, 2],
  [2, 9, 72],
  [5, 1, 2 * 33],
];

describe(`geglu on ${TEST_ADAPTER}`, () => {
  it('has an f64 erf reference that matches tabulated values', () => {
    // Abramowitz & Stegun table 7.1 / high-precision values.
    const table: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [-1, -0.8427007929497149],
    ];
    for (const [x, v] of table) expect(Math.abs(erfReference(x) - v)).toBeLessThan(1e-14);
    // 1 - erf(4) = erfc(4): only the f64 ulp of erf near 1 (1.1e-16) is lost.
    expect(Math.abs(1 - erfReference(4) - 1.541725790028002e-8)).toBeLessThan(2.3e-16);
    expect(geluErfReference(1)).toBeCloseTo(0.8413447460685429, 14);
  });

  it('matches the reference on odd f32 shapes, vec4 and scalar variants', async () => {
    const ctx = await testContext();
    for (const [s, shape] of SHAPES.entries()) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = randomArray(n, 100 + s, -4, 4);
      const h = ctx.upload(data, shape, 'f32', 'geglu-in');
      const outShape = gegluOutputShape(shape);
      const f = outShape[outShape.length - 1]!;
      const expected = gegluReference(data, n / (2 * f), f);
      for (const vectorize of f % 4 === 0 ? [true, false] : [true]) {
        const c = compare(await runGeglu(ctx, h, vectorize), expected);
        expect(c.maxRel, `[${shape.join(', ')}] vec=${vectorize}: ${describeComparison(c)}`).toBeLessThanOrEqual(1e-6);
      }
      ctx.release(h);
    }
  });

  it('computes the exact erf GELU to 1e-6·max(1,|x|) over [-10, 10] and the far tails', async () => {
    const ctx = await testContext();
    const gates: number[] = [];
    for (let i = 0; i <= 8000; i++) gates.push(-10 + (20 * i) / 8000);
    gates.push(-1e-7, 1e-7, -30, 30, -1e4, 1e4, 0.6744897501960817, -0.6744897501960817);
    const f = gates.length; // not a multiple of 4: scalar path; the vec4 path is covered above
    const h = new Float32Array(2 * f);
    h.fill(1, 0, f);
    h.set(gates, f);
    const t = ctx.upload(h, [1, 2 * f], 'f32', 'gelu-sweep');
    const got = await runGeglu(ctx, t, true);
    let worst = 0;
    let at = 0;
    gates.forEach((x, i) => {
      const xf = Math.fround(x);
      const err = Math.abs(got[i]! - geluErfReference(xf)) / Math.max(1, Math.abs(xf));
      if (err > worst) [worst, at] = [err, xf];
    });
    console.log(`[geglu] gelu_erf max error ${worst.toExponential(3)} (relative to max(1,|x|)) at x=${at}`);
    expect(worst).toBeLessThanOrEqual(1e-6);
    ctx.release(t);
  });

  it('runs f16 storage with f32 math where shader-f16 exists, and refuses it where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      for (const shape of [[3, 7, 10], [13, 24], [2, 9, 72]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = roundToF16(randomArray(n, 7 + n, -4, 4));
        const f = shape[shape.length - 1]! / 2;
        const expected = gegluReference(data, n / (2 * f), f);
        const h = ctx.upload(data, shape, 'f16', 'geglu-f16');
        for (const vectorize of f % 4 === 0 ? [true, false] : [true]) {
          const c = compare(await runGeglu(ctx, h, vectorize), expected);
          expect(c.maxRel, `f16 [${shape.join(', ')}] vec=${vectorize}: ${describeComparison(c)}`).toBeLessThanOrEqual(3e-3);
        }
        ctx.release(h);
      }
    } else {
      expect(ctx.hasF16).toBe(false);
      expect(() => ctx.upload(new Float32Array(20), [2, 10], 'f16', 'geglu-f16')).toThrow(FeatureMissingError);
      // A handle that claims f16 (as a caller's bug would) is refused by the op itself.
      const f32 = ctx.upload(new Float32Array(20), [2, 10], 'f32', 'geglu-fake');
      await expect(geglu(ctx, { ...f32, dtype: 'f16' })).rejects.toThrow(FeatureMissingError);
      ctx.release(f32);
    }
  });

  it('rejects an odd last dimension and a wrong destination', async () => {
    const ctx = await testContext();
    expect(() => gegluOutputShape([4, 7])).toThrow(RangeError);
    const h = ctx.upload(new Float32Array(8), [2, 4], 'f32', 'geglu-bad');
    const wrong = ctx.empty([2, 3], 'f32', 'geglu-bad-out');
    await expect(geglu(ctx, h, { out: wrong })).rejects.toThrow(RangeError);
    ctx.release(h, wrong);
  });
});
