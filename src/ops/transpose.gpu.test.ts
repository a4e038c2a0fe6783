import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { randomArray } from '../../tests/numeric';
import { imageToTokens, tokensToImage, transpose12, transposeReference } from './transpose';
import { roundToF16 } from '../gpu/f16';

describe(`transpose on ${TEST_ADAPTER}`, () => {
  it('transposes odd shapes exactly with both kernels (tiled, direct) and round-trips images through tokens', async () => {
    const ctx = await testContext();
    for (const kernel of ['tiled', 'direct'] as const)
      for (const [b, r, c] of [[1, 1, 1], [2, 17, 33], [3, 5, 40], [1, 64, 16]] as const) {
        const data = randomArray(b * r * c, r * 7 + c);
        const x = ctx.upload(data, [b, r, c], 'f32', 'x');
        const got = await checked(ctx, `transpose ${kernel} ${b}×${r}×${c}`, async () => ctx.read(await transpose12(ctx, x, b, r, c, [b, c, r], { kernel })));
        expect(Array.from(got)).toEqual(Array.from(transposeReference(data, b, r, c)));
        ctx.release(x);
      }
    const img = randomArray(2 * 5 * 7 * 3, 9);
    const x = ctx.upload(img, [2, 5, 7, 3], 'f32', 'img');
    const back = await checked(ctx, 'round trip', async () => {
      const tok = await imageToTokens(ctx, x);
      expect(tok.shape).toEqual([2, 21, 5]);
      return ctx.read(await tokensToImage(ctx, tok, 7, 3));
    });
    expect(Array.from(back)).toEqual(Array.from(img));
  });

  it('adds a residual at the write index with both kernels (the tokens → NCHW + input epilogue)', async () => {
    const ctx = await testContext();
    for (const kernel of ['tiled', 'direct'] as const)
      for (const [b, r, c] of [[1, 1, 1], [2, 17, 33], [1, 35, 16]] as const) {
        const data = randomArray(b * r * c, r + c);
        const res = randomArray(b * r * c, r * c + 1);
        const x = ctx.upload(data, [b, r, c], 'f32', 'x');
        const rt = ctx.upload(res, [b, c, r], 'f32', 'residual');
        const got = await checked(ctx, `transpose+residual ${kernel} ${b}×${r}×${c}`, async () =>
          ctx.read(await transpose12(ctx, x, b, r, c, [b, c, r], { kernel, residual: rt })),
        );
        // one f32 addition per element, as the reference's (Math.fround of a sum of two f32 values)
        expect(Array.from(got)).toEqual(Array.from(transposeReference(data, b, r, c, res)));
        ctx.release(x, rt);
      }
    // the shape and dtype of the residual are checked before anything is recorded
    const x = ctx.upload(randomArray(6, 1), [1, 2, 3], 'f32', 'x');
    const wrong = ctx.upload(randomArray(6, 2), [1, 2, 3], 'f32', 'wrong');
    await expect(transpose12(ctx, x, 1, 2, 3, [1, 3, 2], { residual: wrong })).rejects.toThrow(/residual .* must be f32 \[1, 3, 2\]/);
    // tokensToImage passes it through: [N, H·W, C] → NCHW + residual
    const tok = ctx.upload(randomArray(2 * 6 * 4, 3), [2, 6, 4], 'f32', 'tok');
    const img = randomArray(2 * 4 * 6, 4);
    const imgT = ctx.upload(img, [2, 4, 2, 3], 'f32', 'img');
    const sum = await checked(ctx, 'tokensToImage+residual', async () => ctx.read(await tokensToImage(ctx, tok, 2, 3, imgT)));
    expect(Array.from(sum)).toEqual(Array.from(transposeReference(randomArray(2 * 6 * 4, 3), 2, 6, 4, img)));
    ctx.release(x, wrong, tok, imgT);
  });

  it('moves f16 values unchanged on an f16 adapter', async () => {
    const ctx = await testContext();
    if (!ctx.hasF16) {
      expect(TEST_ADAPTER).toBe('swiftshader');
      expect(() => ctx.upload([1, 2], [1, 1, 2], 'f16', 'x')).toThrow(/shader-f16/);
      return;
    }
    const data = roundToF16(randomArray(3 * 19 * 23, 4));
    const x = ctx.upload(data, [3, 19, 23], 'f16', 'x');
    for (const kernel of ['tiled', 'direct'] as const) {
      const got = await checked(ctx, `transpose f16 ${kernel}`, async () => ctx.read(await transpose12(ctx, x, 3, 19, 23, [3, 23, 19], { kernel })));
      expect(Array.from(got)).toEqual(Array.from(transposeReference(data, 3, 19, 23)));
      // with a residual: the sum in f32, rounded to f16 once
      const res = roundToF16(randomArray(3 * 19 * 23, 5));
      const r = ctx.upload(res, [3, 23, 19], 'f16', 'residual');
      const sum = await checked(ctx, `transpose+residual f16 ${kernel}`, async () => ctx.read(await transpose12(ctx, x, 3, 19, 23, [3, 23, 19], { kernel, residual: r })));
      expect(Array.from(sum)).toEqual(Array.from(roundToF16(transposeReference(data, 3, 19, 23, res))));
      ctx.release(r);
    }
  });
});
