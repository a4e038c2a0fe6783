import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { DType, Tensor } from '../gpu/tensor';
import type { GpuContext } from '../gpu/context';
import { matmul, TILE_128, TILE_32X8, TILE_64, TILE_64X8, type MatmulOptions, type MatmulVariant, type TileConfig } from './matmul';
import { matmulReference } from './matmul.reference';

interface Case {
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  /** Leading dims of A / B (B: [] = 2-D, broadcast). */
  batchA?: number[];
  batchB?: number[];
  bias?: boolean;
  alpha?: number;
  splitK?: number;
  tile?: TileConfig;
  f16Math?: boolean;
}

const F32_TOL = 1e-5;
const F16_TOL = 2e-3;
let seed = 1;

/** Runs one case on the GPU and returns its error against the f64 reference. */
async function runCase(ctx: GpuContext, c: Case, variant: MatmulVariant, dtype: DType = 'f32') {
  const batchA = c.batchA ?? [];
  const batchB = c.batchB ?? [];
  const aShape = [...batchA, ...(c.transA ? [c.K, c.M] : [c.M, c.K])];
  const bShape = [...batchB, ...(c.transB ? [c.N, c.K] : [c.K, c.N])];
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  // The f16 reference is computed on the f16-rounded inputs: it checks the kernel, not f16 storage.
  const round = (x: Float32Array) => (dtype === 'f16' ? roundToF16(x) : x);
  const a = round(randomArray(size(aShape), seed++));
  const b = round(randomArray(size(bShape), seed++));
  const bias = c.bias ? round(randomArray(c.N, seed++)) : undefined;
  const tag = `${dtype} ${variant} ${aShape.join('×')}${c.transA ? 'ᵀ' : ''}·${bShape.join('×')}${c.transB ? 'ᵀ' : ''}`;
  const ta = ctx.upload(a, aShape, dtype, 'A');
  const tb = ctx.upload(b, bShape, dtype, 'B');
  const tbias = bias ? ctx.upload(bias, [c.N], dtype, 'bias') : undefined;
  const opts: MatmulOptions = { transA: c.transA ?? false, transB: c.transB ?? false, variant };
  if (tbias) opts.bias = tbias;
  if (c.alpha !== undefined) opts.alpha = c.alpha;
  if (c.splitK !== undefined) opts.splitK = c.splitK;
  if (c.tile) opts.tile = c.tile;
  if (c.f16Math !== undefined) opts.f16Math = c.f16Math;
  let out: Tensor | undefined;
  const got = await checked(ctx, tag, async () => {
    out = await matmul(ctx, ta, tb, opts);
    return ctx.read(out);
  });
  const ref = matmulReference(a, aShape, b, bShape, {
    transA: c.transA ?? false,
    transB: c.transB ?? false,
    alpha: c.alpha ?? 1,
    ...(bias ? { bias } : {}),
  });
  expect(out!.shape).toEqual(ref.shape);
  ctx.release(ta, tb, out!, ...(tbias ? [tbias] : []));
  return { cmp: compare(got, ref.data), tag };
}

async function expectClose(ctx: GpuContext, c: Case, variant: MatmulVariant, dtype: DType = 'f32', tol = dtype === 'f16' ? F16_TOL : F32_TOL) {
  const { cmp, tag } = await runCase(ctx, c, variant, dtype);
  if (c.f16Math) console.log(`f16 math ${tag}: ${describeComparison(cmp)}`);
  expect(cmp.maxRel, `${tag}: ${describeComparison(cmp)}`).toBeLessThanOrEqual(tol);
  expect(cmp.scale, `${tag}: output is all zero`).toBeGreaterThan(0);
}

const VARIANTS: MatmulVariant[] = ['naive', 'tiled'];
// Two shape families keep the number of compiled pipelines (about 1-2 s each on SwiftShader) small:
// ODD has no dimension a multiple of 4 (scalar loads and stores), ALIGNED has all (vec4 paths).
const ODD = { M: 17, K: 33, N: 65 };
const ALIGNED = { M: 20, K: 36, N: 68 };
const TRANSPOSES = [[false, false], [true, false], [false, true], [true, true]] as const;

describe(`matmul on ${TEST_ADAPTER}`, () => {
  it.each(VARIANTS)('%s: f32 on 1×1×1, 17×33×65 and 257×129×511 (M×K×N)', async (variant) => {
    const ctx = await testContext();
    for (const [M, K, N] of [[1, 1, 1], [17, 33, 65], [257, 129, 511]] as const) {
      await expectClose(ctx, { M, K, N }, variant);
    }
  });

  it.each(VARIANTS)('%s: transposed operands, scalar and vec4 loads', async (variant) => {
    const ctx = await testContext();
    // The tiled kernel's A and B loaders are independent, so (F,F) and (T,T) on both families reach
    // all 8 of them; the mixed pairs also run in the batched tests below. The naive kernel is cheap
    // to compile: all four pairs.
    const pairs = variant === 'naive' ? TRANSPOSES : TRANSPOSES.filter(([ta, tb]) => ta === tb);
    for (const shape of [ODD, ALIGNED]) {
      for (const [transA, transB] of pairs) await expectClose(ctx, { ...shape, transA, transB }, variant);
    }
  });

  it.each(VARIANTS)('%s: batched A with a broadcast 2-D B, batched A and B, broadcast A', async (variant) => {
    const ctx = await testContext();
    await expectClose(ctx, { ...ODD, batchA: [2, 3] }, variant);
    await expectClose(ctx, { ...ALIGNED, batchA: [3], batchB: [3], transB: true }, variant);
    await expectClose(ctx, { ...ODD, batchB: [2], transA: true }, variant);
  });

  it.each(VARIANTS)('%s: fused bias and alpha', async (variant) => {
    const ctx = await testContext();
    await expectClose(ctx, { ...ODD, bias: true, alpha: 0.37 }, variant);
    await expectClose(ctx, { ...ALIGNED, bias: true, alpha: -2, transB: true, batchA: [2] }, variant);
  });

  it('tiled: split-K with bias and alpha, K not a multiple of the K-step, batched', async () => {
    const ctx = await testContext();
    await expectClose(ctx, { M: 21, K: 700, N: 45, splitK: 3, bias: true, alpha: 0.5 }, 'tiled');
    await expectClose(ctx, { M: 24, K: 1100, N: 40, splitK: 5, batchA: [2], transB: true, bias: true }, 'tiled');
  });

  it('tiled: the 128×128 tile (8×8 per thread) and the 64×64 tile with 4×4 per thread, on their edges', async () => {
    const ctx = await testContext();
    await expectClose(ctx, { M: 131, K: 37, N: 133, tile: TILE_128, bias: true }, 'tiled');
    await expectClose(ctx, { M: 132, K: 40, N: 136, tile: TILE_128, transA: true, transB: true }, 'tiled');
    await expectClose(ctx, { M: 65, K: 31, N: 129, tile: TILE_64, transA: true }, 'tiled');
    await expectClose(ctx, { M: 64, K: 32, N: 128, tile: TILE_64X8, batchA: [2] }, 'tiled');
    // the 32×32 tile (4×4 threads): partial in both directions, transposes, bias and a batch
    await expectClose(ctx, { M: 45, K: 37, N: 71, tile: TILE_32X8, bias: true, transB: true, batchA: [3] }, 'tiled');
    await expectClose(ctx, { M: 33, K: 40, N: 32, tile: TILE_32X8, transA: true }, 'tiled');
  });

  it('auto picks a variant that is right on tiny and on larger shapes', async () => {
    const ctx = await testContext();
    await expectClose(ctx, { M: 3, K: 5, N: 7 }, 'auto');
    await expectClose(ctx, { ...ALIGNED, M: 70, transB: true, bias: true }, 'auto');
  });

  it('writes into a given out tensor and rejects mismatched shapes by name', async () => {
    const ctx = await testContext();
    const [ha, hb] = [randomArray(6, 1), randomArray(6, 2)];
    const a = ctx.upload(ha, [2, 3], 'f32', 'A');
    const b = ctx.upload(hb, [3, 2], 'f32', 'B');
    const out = ctx.empty([2, 2], 'f32', 'C');
    const got = await checked(ctx, 'matmul out', async () => ctx.read(await matmul(ctx, a, b, { out })));
    const ref = matmulReference(ha, [2, 3], hb, [3, 2]);
    expect(compare(got, ref.data).maxRel).toBeLessThanOrEqual(F32_TOL);
    await expect(matmul(ctx, a, a)).rejects.toThrow(/inner dimensions 3 and 2/);
    await expect(matmul(ctx, a, b, { out: a })).rejects.toThrow(RangeError);
    ctx.release(a, b, out);
  });

  it('f16 arithmetic (opt-in): f16 tiles and per-K-tile f16 sums stay within the f16 bound on every tile, transpose, split-K and epilogue; f32 tensors ignore it', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      // a BK-term f16 sum adds ~√BK·2⁻¹¹ relative error per tile to the storage rounding (matmul_tiled.wgsl)
      const F16_MATH_TOL = 4e-3;
      for (const tile of [TILE_64, TILE_64X8, TILE_128, TILE_32X8]) {
        await expectClose(ctx, { ...ODD, bias: true, tile, f16Math: true }, 'tiled', 'f16', F16_MATH_TOL);
        await expectClose(ctx, { ...ALIGNED, transB: true, alpha: 0.5, bias: true, tile, f16Math: true }, 'tiled', 'f16', F16_MATH_TOL);
      }
      await expectClose(ctx, { ...ODD, transA: true, batchA: [2], f16Math: true }, 'tiled', 'f16', F16_MATH_TOL);
      await expectClose(ctx, { M: 24, K: 700, N: 40, splitK: 4, bias: true, f16Math: true }, 'tiled', 'f16', F16_MATH_TOL);
      await expectClose(ctx, { M: 77, K: 1280, N: 96, transB: true, f16Math: true }, 'tiled', 'f16', F16_MATH_TOL);
      // the variant is really taken: its sums differ from the f32-accumulated kernel's
      const a16 = ctx.upload(roundToF16(randomArray(40 * 300, 93)), [40, 300], 'f16', 'a16');
      const b16 = ctx.upload(roundToF16(randomArray(300 * 24, 94)), [300, 24], 'f16', 'b16');
      const exact = await matmul(ctx, a16, b16, { variant: 'tiled' });
      const fast = await matmul(ctx, a16, b16, { variant: 'tiled', f16Math: true });
      expect(await ctx.read(fast)).not.toEqual(await ctx.read(exact));
      ctx.release(a16, b16, exact, fast);
    }
    // on f32 tensors the flag selects nothing: the same bits as without it
    const a = ctx.upload(randomArray(37 * 45, 91), [37, 45], 'f32', 'a');
    const b = ctx.upload(randomArray(45 * 29, 92), [45, 29], 'f32', 'b');
    const plain = await matmul(ctx, a, b, { variant: 'tiled' });
    const flagged = await matmul(ctx, a, b, { variant: 'tiled', f16Math: true });
    expect(await ctx.read(flagged)).toEqual(await ctx.read(plain));
    ctx.release(a, b, plain, flagged);
  });

  it('f16 storage with f32 accumulation where shader-f16 exists, FeatureMissingError where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      for (const variant of VARIANTS) {
        await expectClose(ctx, { ...ODD, bias: true }, variant, 'f16');
        await expectClose(ctx, { ...ALIGNED, transB: true, alpha: 0.5, bias: true }, variant, 'f16');
        await expectClose(ctx, { ...ODD, transA: true, batchA: [2] }, variant, 'f16');
        await expectClose(ctx, { ...ALIGNED, transA: true, batchB: [2] }, variant, 'f16');
      }
      await expectClose(ctx, { M: 24, K: 700, N: 40, splitK: 4, bias: true }, 'tiled', 'f16');
      await expectClose(ctx, { M: 131, K: 37, N: 133, tile: TILE_128 }, 'tiled', 'f16');
    } else {
      expect(ctx.hasF16).toBe(false);
      // ctx.empty refuses f16 tensors, so hand matmul f16 handles over f32 buffers: it must refuse too.
      const buf = ctx.upload(new Float32Array(4), [4], 'f32', 'fake');
      const fake: Tensor = { shape: [2, 2], dtype: 'f16', buffer: buf.buffer, offset: 0 };
      for (const variant of ['naive', 'tiled', 'auto'] as const) {
        await expect(matmul(ctx, fake, fake, { variant })).rejects.toThrow(FeatureMissingError);
      }
      ctx.release(buf);
    }
  });
});
