/**
 * EWA on the tiny golden SDXL (golden/models) with 3 synthetic concepts (distinct random token rows,
 * random LoRAs): a prompt naming concept A gives w_A ≈ 1 in every layer; the weights are a distribution
 * (code form) and match the plain-TS reference on the states read back, in both forms; the folded
 * UNet's forward equals the forward that applies Σ_i 0.8·w_i·LoRA_i unfolded in every attn2 linear.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import { TOLERANCE } from '../../golden/env';
import { loadModelFolder, type LoadedModelFolder } from '../../golden/training/model-folder';
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { concat } from '../../ops/concat';
import { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { unetForward } from '../../model/unet/forward';
import { GpuUNetBackend } from '../../model/unet/gpu-backend';
import { layerContexts } from './encode';
import { EwaLibrary } from './ewa';
import { syntheticConcepts } from './synthetic';
import { ewaSimilarity, layerSimilarities } from './similarity';
import { codeTaskScores, ewaWeightsReference } from './weights';

const DIR = fileURLToPath(new URL('../../../golden/models/', import.meta.url));
const tokenizer = (sub: string) => {
  const r = (f: string) => readFileSync(join(DIR, sub, f), 'utf8');
  return ClipTokenizer.fromFiles(r('vocab.json'), r('merges.txt'), ClipTokenizer.configFromJson(r('tokenizer_config.json')));
};

let setup: Promise<{ ctx: GpuContext; model: LoadedModelFolder; lib: EwaLibrary }> | null = null;
function tiny() {
  setup ??= (async () => {
    const ctx = await testContext();
    const model = await loadModelFolder(ctx, DIR, ctx.hasF16 ? 'f16' : 'f32');
    const concepts = syntheticConcepts(model.unet.arch, model.encoders.map((e) => e.config.hiddenSize), 3, { seed: 77 });
    const lib = await checked(ctx, 'ewa library', () => EwaLibrary.create(ctx, model, [tokenizer('tokenizer'), tokenizer('tokenizer_2')], concepts));
    return { ctx, model, lib };
  })();
  return setup;
}

afterAll(async () => {
  if (!setup) return;
  const { model, lib } = await setup;
  lib.destroy();
  model.destroy();
});

const sum = (w: ArrayLike<number>) => Array.from(w).reduce((a, b) => a + b, 0);
/** SwiftShader on a busy 2-core machine: the tiny encoders over 28 layer-wise prompts take tens of seconds. */
const SLOW = 600_000;

describe(`EWA on the tiny SDXL (${TEST_ADAPTER})`, () => {
  it('a prompt naming concept A gives w_A ≈ 1 in every layer; the weights are a distribution', async () => {
    const { ctx, lib } = await tiny();
    expect(lib.layers).toBe(28);
    for (const [a, prompt] of [[1, 'a photo of <s2_1> <s2_2> on a table'], [2, 'a painting of <s3_1> <s3_2>']] as const) {
      const p = await checked(ctx, 'encode', () => lib.encodePrompt(prompt));
      expect(p.shared).toBe(false);
      expect(p.states.shape).toEqual([28, 77, 80]);
      const w = await lib.weights(p.states);
      const wa = w.map((l) => l[a]!);
      console.log(`[ewa ${ctx.hasF16 ? 'f16' : 'f32'}] "${prompt}": w_A over layers min ${Math.min(...wa).toFixed(4)} mean ${(sum(wa) / wa.length).toFixed(4)}`);
      for (const l of w) {
        expect(sum(l)).toBeCloseTo(1, 6);
        for (const x of l) expect(x).toBeGreaterThanOrEqual(0);
        expect(l[a]).toBeGreaterThan(0.9);
      }
      ctx.release(p.states, p.pooled!);
    }
  }, SLOW);

  it('the GPU weights equal the plain-TS reference on the states read back (code and paper form, shared and layer-wise prompts)', async () => {
    const { ctx, lib } = await tiny();
    const { states: cs, layers: L, layerStride, rows } = lib.concept;
    const C = cs.shape[2]!;
    const concept = await ctx.read(cs);
    const J = rows.length;
    const words = new Float32Array(L * J * C);
    for (let l = 0; l < L; l++) rows.forEach((r, j) => words.set(concept.subarray((l * layerStride + r) * C, (l * layerStride + r + 1) * C), (l * J + j) * C));
    for (const prompt of ['<s1_1> <s1_2> next to <s3_1> <s3_2>', 'a photo of a dog']) {
      const p = await lib.encodePrompt(prompt);
      expect(p.shared).toBe(prompt === 'a photo of a dog');
      const states = await ctx.read(p.states);
      for (const form of ['code', 'paper'] as const) {
        const ref = ewaWeightsReference(words, states, { layers: L, words: J, tokens: 77, width: C, promptShared: p.shared }, lib.table.spans, form);
        const got = await lib.weights(p.states, form);
        for (let l = 0; l < L; l++) {
          expect(compare(got[l]!, ref[l]!).maxAbs, `${form} layer ${l}`).toBeLessThanOrEqual(1e-5);
          if (form === 'paper') expect(Math.hypot(...got[l]!)).toBeCloseTo(1, 6);
        }
      }
      ctx.release(p.states, p.pooled!);
    }
  }, SLOW);

  it('a library past one 77-token sequence: the second sequence\'s words are found where they are', async () => {
    const { ctx, model } = await tiny();
    // two concepts of 38 words: 76 > 75, so concept 2 opens the concept prompt's second sequence
    const concepts = syntheticConcepts(model.unet.arch, model.encoders.map((e) => e.config.hiddenSize), 2, { seed: 5, words: 38 });
    const lib = await checked(ctx, 'ewa library of 2 sequences', () => EwaLibrary.create(ctx, model, [tokenizer('tokenizer'), tokenizer('tokenizer_2')], concepts));
    try {
      expect(lib.concept.states.shape).toEqual([2 * 28, 77, 80]);
      // The prompt "<s2_1> … <s2_38>" is token for token that second sequence, so (causal CLIP) its states
      // at the words equal the concept states there: every word's best cosine is 1, and s_2 = 1.
      const p = await lib.encodePrompt(concepts[1]!.placeholders.join(' '));
      const t = await ewaSimilarity(ctx, lib.concept, p.states);
      const sims = layerSimilarities(await ctx.read(t), 28, 76, 77);
      for (const sim of sims) {
        const s = codeTaskScores(sim, lib.table.spans);
        expect(s[1]).toBeGreaterThan(1 - 1e-5);
        expect(s[0]).toBeLessThan(0.9);
      }
      ctx.release(t, p.states, p.pooled!);
    } finally {
      lib.destroy();
    }
  }, SLOW);

  it('the folded UNet equals the UNet applying Σ_i 0.8·w_i·LoRA_i unfolded in every attn2 linear', async () => {
    const { ctx, model, lib } = await tiny();
    const dtype = model.dtype;
    const prep = await checked(ctx, 'ewa prepare', () => lib.prepare('<s1_1> <s1_2> next to <s3_1> <s3_2>'));
    // both named concepts carry weight, so the fold mixes LoRAs
    const mid = prep.layerWeights[14]!;
    console.log(`[ewa ${dtype}] two-concept prompt, layer 14 weights ${Array.from(mid).map((x) => x.toFixed(3)).join(' / ')}`);
    expect(mid[0]! + mid[2]!).toBeGreaterThan(0.9);
    expect(Math.min(mid[0]!, mid[2]!)).toBeGreaterThan(0.05);
    // only the 4·L attn2 tensors are new; everything else is the base tensor itself
    const replaced = [...prep.folded.weights].filter(([n, t]) => model.unet.weights.get(n) !== t).map(([n]) => n);
    expect(replaced).toHaveLength(4 * 28);
    expect(replaced.every((n) => /\.attn2\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(n))).toBe(true);

    const uncond = await lib.encodePrompt('');
    const contexts = await layerContexts(ctx, prep.prompt.states, lib.layers, uncond.states);
    const [h, w] = [5, 7];
    const sample = ctx.upload(randomArray(2 * 4 * h * w, 3), [2, 4, h, w], dtype, 'sample');
    const textEmbeds = await concat(ctx, [uncond.pooled!, prep.prompt.pooled!], 0);
    const run = async (be: GpuUNetBackend) => {
      const out = await unetForward(be, model.unet.arch, {
        sample, timesteps: [700, 700], encoderHiddenStates: contexts.contexts[0]!, layerContexts: contexts.contexts, textEmbeds, timeIds: [40, 56, 0, 0, 40, 56, 40, 56, 0, 0, 40, 56],
      });
      const r = await ctx.read(out);
      ctx.release(out);
      return r;
    };
    const folded = await checked(ctx, 'folded forward', () => run(new GpuUNetBackend(ctx, prep.folded.weights, dtype, 'ewa folded')));
    const adapters = await lib.adapters(prep.layerWeights);
    const unfolded = await checked(ctx, 'unfolded forward', () => run(new GpuUNetBackend(ctx, model.unet.weights, dtype, 'ewa unfolded', adapters.lora)));
    const plain = await run(new GpuUNetBackend(ctx, model.unet.weights, dtype, 'base'));
    const c = compare(folded, unfolded);
    const effect = compare(plain, unfolded);
    console.log(`[ewa ${dtype}] folded vs unfolded UNet: ${describeComparison(c)}; base vs EWA: max_rel=${effect.maxRel.toExponential(3)}`);
    expect(c.maxRel).toBeLessThanOrEqual(TOLERANCE[dtype].network);
    // the concepts' LoRAs change the output far beyond that tolerance (the comparison is not vacuous)
    expect(effect.maxRel).toBeGreaterThan(20 * TOLERANCE[dtype].network);
    adapters.release();
    contexts.release();
    ctx.release(sample, textEmbeds, uncond.states, uncond.pooled!);
    prep.release();
  }, SLOW);
});
