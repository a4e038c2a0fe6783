import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import { fromF16Array, toF16Array } from '../../gpu/f16';
import type { DType, Tensor } from '../../gpu/tensor';
import { loraLinear } from '../../ops/lora';
import { linear } from '../../ops/linear';
import type { Concept, ConceptLora } from '../concepts/concept';
import type { LoraTarget } from '../train/layers';
import { createLoraBank, ewaAdapters, foldEwa, foldReference } from './fold';

const DTYPES: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
// The compute dtype and the base weights' storage: 'f16' weights under 'f32' compute are packed f16
// pairs in u32 words (no shader-f16; ops/weight-delta.ts writes W_eff packed), on both adapters.
const MODES: { dtype: DType; weights: DType }[] = [...DTYPES.map((d) => ({ dtype: d, weights: d })), { dtype: 'f32', weights: 'f16' }];
const round = (x: Float32Array, dtype: DType) => (dtype === 'f16' ? fromF16Array(toF16Array(x)) : x);

// Two layers with odd shapes: layer 0 a square-ish q, layer 1 a k with a wide input and another out.
const TARGETS: LoraTarget[] = [
  { module: 'blk.0.attn2.to_q', weight: 'blk.0.attn2.to_q.weight', inFeatures: 45, outFeatures: 29, layer: 0 },
  { module: 'blk.0.attn2.to_out.0', weight: 'blk.0.attn2.to_out.0.weight', inFeatures: 29, outFeatures: 29, layer: 0 },
  { module: 'blk.1.attn2.to_k', weight: 'blk.1.attn2.to_k.weight', inFeatures: 83, outFeatures: 37, layer: 1 },
];
const RANKS = [4, 3, 1];

function concept(i: number, rank: number, dtype: DType): Concept {
  const lora = new Map<string, ConceptLora>();
  TARGETS.forEach((t, n) => {
    lora.set(t.module, {
      down: round(randomArray(rank * t.inFeatures, 100 * i + 2 * n, -0.4, 0.4), dtype),
      up: round(randomArray(t.outFeatures * rank, 100 * i + 2 * n + 1, -0.4, 0.4), dtype),
      inFeatures: t.inFeatures,
      outFeatures: t.outFeatures,
    });
  });
  return { rank, lora } as Concept;
}

describe(`EWA fold on ${TEST_ADAPTER}`, () => {
  for (const { dtype, weights } of MODES) {
    const packed = weights !== dtype;
    it(`W0 + s·Σ w U D for 3 concepts of ranks ${RANKS.join('/')} equals the f64 reference, and the unfolded path agrees (${dtype}${packed ? ', packed f16 weights' : ''})`, async () => {
      const ctx = await testContext();
      const concepts = RANKS.map((r, i) => concept(i, r, dtype));
      const layerWeights = [
        [0.7, 0.2, 0.1],
        [0.05, 0.15, 0.8],
      ];
      const scale = 0.8;
      const base = new Map<string, Tensor>();
      const w0: Float32Array[] = [];
      TARGETS.forEach((t, n) => {
        const data = round(randomArray(t.outFeatures * t.inFeatures, 50 + n, -0.3, 0.3), weights);
        w0.push(data);
        base.set(t.weight, packed ? ctx.uploadWeight(data, [t.outFeatures, t.inFeatures], weights, t.weight) : ctx.upload(data, [t.outFeatures, t.inFeatures], dtype, t.weight));
      });
      const other = ctx.upload(randomArray(5, 9), [5], dtype, 'an unrelated weight');
      base.set('other.weight', other);
      const bank = createLoraBank(ctx, TARGETS, concepts, dtype);
      expect(bank.totalRank).toBe(8);
      const folded = await checked(ctx, 'ewa fold', () => foldEwa(ctx, base, bank, layerWeights, { scale }));
      expect(folded.folded).toHaveLength(TARGETS.length);
      expect(folded.weights.get('other.weight')).toBe(other);
      // packed: W_eff is rounded to f16 once, as f16 storage rounds it
      const tol = weights === 'f32' ? 1e-5 : 2e-3;
      for (const [n, t] of TARGETS.entries()) {
        const loras = concepts.map((c) => ({ ...c.lora.get(t.module)!, rank: c.rank }));
        const expected = foldReference(w0[n]!, t.outFeatures, t.inFeatures, loras, layerWeights[t.layer]!, scale);
        const got = await ctx.read(folded.weights.get(t.weight)!);
        expect(folded.weights.get(t.weight)!.dtype).toBe(weights);
        const c = compare(got, expected);
        console.log(`[ewa-fold ${dtype}] ${t.module} [${t.outFeatures}×${t.inFeatures}]: ${describeComparison(c)}`);
        expect(c.maxRel, t.module).toBeLessThanOrEqual(tol);
        // the fold really moved the weight
        expect(compare(got, w0[n]!).maxRel).toBeGreaterThan(1e-2);
        expect(folded.weights.get(t.weight)).not.toBe(base.get(t.weight));
      }
      // Unfolded: each linear applies Σ s·w_i·LoRA_i on the fly; a linear on W_eff must give the same.
      const adapters = await ewaAdapters(ctx, base, bank, layerWeights, { scale });
      for (const t of TARGETS) {
        const x = ctx.upload(round(randomArray(7 * t.inFeatures, 77), dtype), [7, t.inFeatures], dtype, 'x');
        const w = base.get(t.weight)!;
        const viaFold = await ctx.read(await linear(ctx, x, folded.weights.get(t.weight)!));
        const fused = await ctx.read(await loraLinear(ctx, x, w, undefined, adapters.lora.get(w)!));
        const c = compare(viaFold, fused);
        expect(c.maxRel, `${t.module} folded vs fused: ${describeComparison(c)}`).toBeLessThanOrEqual(weights === 'f32' ? 1e-5 : 5e-3);
      }
      adapters.release();
      folded.release();
      bank.destroy();
      for (const w of base.values()) {
        if (w.lease === undefined) ctx.destroyTensor(w);
        else ctx.release(w);
      }
    });
  }

  it('refuses weights of the wrong count and a LoRA that does not fit', async () => {
    const ctx = await testContext();
    const concepts = RANKS.map((r, i) => concept(i, r, 'f32'));
    const bank = createLoraBank(ctx, TARGETS, concepts, 'f32');
    await expect(foldEwa(ctx, new Map(), bank, [[1, 0, 0]])).rejects.toThrow(/layers/);
    await expect(foldEwa(ctx, new Map(), bank, [[1, 0], [1, 0]])).rejects.toThrow(/concepts/);
    await expect(foldEwa(ctx, new Map(), bank, [[1, 0, 0], [1, 0, 0]])).rejects.toThrow(/no blk/);
    bank.destroy();
    const broken = concept(5, 2, 'f32');
    broken.lora.set(TARGETS[0]!.module, { ...broken.lora.get(TARGETS[0]!.module)!, inFeatures: 44 });
    expect(() => createLoraBank(ctx, TARGETS, [broken], 'f32')).toThrow(/does not fit/);
  });
});
