import { describe, expect, it, vi } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import { foldLora, loraInKernel, loraLinear, loraLinearReference, packLora, releasePacked } from './lora';
import { LORA_EPILOGUE_MAX_RANK, matmul } from './matmul';
import { roundToF16 } from '../gpu/f16';
import { linear } from './linear';

describe(`LoRA linear on ${TEST_ADAPTER}`, () => {
  // the first shape fits one 64×64 tile; the second spans 3×2 tiles, partial in M, N and K (70 = 4·16 + 6)
  const SHAPES = [{ M: 37, inF: 45, out: 29 }, { M: 131, inF: 70, out: 75 }];
  // ranks ≤ 16 run inside the layer's matmul (one dispatch); 7 + 13 = 20 takes the three-dispatch path
  const RANKS = [[4], [1, 3, 8], [16], [7, 13]];

  for (const { M, inF, out } of SHAPES)
    for (const ranks of RANKS) {
      const R = ranks.reduce((sum, r) => sum + r, 0);
      it(`fused and folded agree with the reference, ${M}×${inF}→${out}, adapters of rank ${ranks.join('/')}: ${R <= LORA_EPILOGUE_MAX_RANK ? 'one dispatch' : 'three dispatches'}`, async () => {
        const ctx = await testContext();
        const xData = randomArray(M * inF, 1);
        const wData = randomArray(out * inF, 2, -0.2, 0.2);
        const bData = randomArray(out, 3);
        const host = ranks.map((rank, i) => ({
          rank,
          scale: [1, 0.5, 2][i]!,
          down: randomArray(rank * inF, 10 + i, -0.3, 0.3),
          up: randomArray(out * rank, 20 + i, -0.3, 0.3),
        }));
        const expected = loraLinearReference(xData, M, wData, out, inF, bData, host);
        const x = ctx.upload(xData, [M, inF], 'f32', 'x');
        const w = ctx.persistent([out, inF], 'f32', 'w');
        ctx.write(w, wData);
        const b = ctx.upload(bData, [out], 'f32', 'b');
        const adapters = host.map((a, i) => ({
          down: ctx.upload(a.down, [a.rank, inF], 'f32', `down${i}`),
          up: ctx.upload(a.up, [out, a.rank], 'f32', `up${i}`),
          scale: a.scale,
        }));
        const packed = await checked(ctx, 'pack', () => packLora(ctx, w, adapters));
        expect(packed.rank).toBe(R);
        expect(loraInKernel(x, packed)).toBe(R <= LORA_EPILOGUE_MAX_RANK);
        const dispatches = vi.spyOn(ctx, 'dispatch');
        const fusedT = await loraLinear(ctx, x, w, b, packed);
        expect(dispatches.mock.calls.length).toBe(R <= LORA_EPILOGUE_MAX_RANK ? 1 : 3);
        dispatches.mockRestore();
        const fused = await checked(ctx, 'fused', async () => ctx.read(fusedT));
        const folded = await foldLora(ctx, w, packed);
        const viaFold = await checked(ctx, 'folded', async () => ctx.read(await linear(ctx, x, folded, b)));
        const cf = compare(fused, expected);
        const cd = compare(viaFold, expected);
        const agree = compare(fused, viaFold);
        console.log(`[lora] ${M}×${inF}→${out} rank ${R}: fused ${describeComparison(cf)}; folded ${describeComparison(cd)}; fused vs folded ${describeComparison(agree)}`);
        expect(cf.maxRel).toBeLessThanOrEqual(1e-5);
        expect(cd.maxRel).toBeLessThanOrEqual(1e-5);
        expect(agree.maxRel).toBeLessThanOrEqual(1e-5);
        // the LoRA really changes the output (not a no-op)
        const plain = await ctx.read(await linear(ctx, x, w, b));
        expect(compare(plain, expected).maxRel).toBeGreaterThan(1e-2);
        releasePacked(ctx, packed);
        ctx.destroyTensor(folded);
        ctx.destroyTensor(w);
      });
    }

  it('runs the in-kernel term beside a packed-f16 weight and with a residual, and with f16 storage where the adapter has shader-f16', async () => {
    const ctx = await testContext();
    const [M, inF, out, R] = [45, 52, 70, 6];
    const xData = randomArray(M * inF, 31);
    const wData = roundToF16(randomArray(out * inF, 32, -0.2, 0.2));
    const bData = randomArray(out, 33);
    const down = randomArray(R * inF, 34, -0.3, 0.3);
    const up = randomArray(out * R, 35, -0.3, 0.3);
    // f32 activations and LoRA, the weight as f16 (packed u32 pairs where there is no shader-f16)
    const expected = loraLinearReference(xData, M, wData, out, inF, bData, [{ down, up, rank: R, scale: 1 }]);
    const x = ctx.upload(xData, [M, inF], 'f32', 'x');
    const w = ctx.uploadWeight(wData, [out, inF], 'f16', 'w f16');
    const b = ctx.upload(bData, [out], 'f32', 'b');
    const lora = { down: ctx.upload(down, [R, inF], 'f32', 'down'), up: ctx.upload(up, [out, R], 'f32', 'up'), rank: R };
    expect(loraInKernel(x, lora)).toBe(true);
    const got = await checked(ctx, 'packed weight', async () => ctx.read(await loraLinear(ctx, x, w, b, lora)));
    const c = compare(got, expected);
    console.log(`[lora] f16 weight, f32 term: ${describeComparison(c)}`);
    expect(c.maxRel).toBeLessThanOrEqual(1e-5);
    // with a residual (the attention block's to_out.0): still one dispatch, the residual in the epilogue
    const resData = randomArray(M * out, 36);
    const res = ctx.upload(resData, [M, out], 'f32', 'residual');
    const dispatches = vi.spyOn(ctx, 'dispatch');
    const withRes = await loraLinear(ctx, x, w, b, lora, res);
    expect(dispatches.mock.calls.length).toBe(1);
    dispatches.mockRestore();
    const cr = compare(await ctx.read(withRes), expected.map((v, i) => v + resData[i]!));
    expect(cr.maxRel, describeComparison(cr)).toBeLessThanOrEqual(1e-5);
    if (!ctx.hasF16) return;
    // f16 storage throughout: the reference sees the rounded operands
    const r = (a: Float32Array) => roundToF16(a);
    const expected16 = loraLinearReference(r(xData), M, wData, out, inF, r(bData), [{ down: r(down), up: r(up), rank: R, scale: 1 }]);
    const lora16 = { down: ctx.upload(r(down), [R, inF], 'f16', 'down16'), up: ctx.upload(r(up), [out, R], 'f16', 'up16'), rank: R };
    const x16 = ctx.upload(r(xData), [M, inF], 'f16', 'x16');
    const got16 = await checked(ctx, 'f16', async () => ctx.read(await loraLinear(ctx, x16, w, ctx.upload(r(bData), [out], 'f16', 'b16'), lora16)));
    const c16 = compare(got16, expected16);
    console.log(`[lora] f16 storage: ${describeComparison(c16)}`);
    expect(c16.maxRel).toBeLessThanOrEqual(3e-3);
  });

  it('refuses adapters that do not fit the weight', async () => {
    const ctx = await testContext();
    const w = ctx.persistent([8, 6], 'f32', 'w');
    const down = ctx.upload(randomArray(2 * 5, 1), [2, 5], 'f32', 'down');
    const up = ctx.upload(randomArray(8 * 2, 1), [8, 2], 'f32', 'up');
    await expect(packLora(ctx, w, [{ down, up, scale: 1 }])).rejects.toThrow(/do not fit/);
    // the in-kernel term names what does not fit too
    const x = ctx.upload(randomArray(3 * 6, 2), [3, 6], 'f32', 'x');
    await expect(matmul(ctx, x, w, { transB: true, lora: { down, up } })).rejects.toThrow(/LoRA down .* do not fit/);
    const wide = ctx.upload(randomArray(17 * 6, 3), [17, 6], 'f32', 'down17');
    await expect(matmul(ctx, x, w, { transB: true, lora: { down: wide, up: ctx.upload(randomArray(8 * 17, 4), [8, 17], 'f32', 'up17') } })).rejects.toThrow(/rank 17 is outside/);
  });
});
