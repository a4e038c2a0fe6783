import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import { foldLora, loraLinear, loraLinearReference, packLora, releasePacked } from './lora';
import { linear } from './linear';

describe(`LoRA linear on ${TEST_ADAPTER}`, () => {
  const M = 37, inF = 45, out = 29;

  for (const ranks of [[4], [1, 3, 8]]) {
    it(`fused and folded agree with the reference for ${ranks.length} adapter(s) of rank ${ranks.join('/')}`, async () => {
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
      expect(packed.rank).toBe(ranks.reduce((s, r) => s + r, 0));
      const fused = await checked(ctx, 'fused', async () => ctx.read(await loraLinear(ctx, x, w, b, packed)));
      const folded = await foldLora(ctx, w, packed);
      const viaFold = await checked(ctx, 'folded', async () => ctx.read(await linear(ctx, x, folded, b)));
      const cf = compare(fused, expected);
      const cd = compare(viaFold, expected);
      const agree = compare(fused, viaFold);
      console.log(`[lora] fused ${describeComparison(cf)}; folded ${describeComparison(cd)}; fused vs folded ${describeComparison(agree)}`);
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

  it('refuses adapters that do not fit the weight', async () => {
    const ctx = await testContext();
    const w = ctx.persistent([8, 6], 'f32', 'w');
    const down = ctx.upload(randomArray(2 * 5, 1), [2, 5], 'f32', 'down');
    const up = ctx.upload(randomArray(8 * 2, 1), [8, 2], 'f32', 'up');
    await expect(packLora(ctx, w, [{ down, up, scale: 1 }])).rejects.toThrow(/do not fit/);
  });
});
