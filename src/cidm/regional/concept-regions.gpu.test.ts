/**
 * A concept per region (issue 11 point 5) on the tiny golden SDXL with 3 synthetic concepts of one class
 * word ("thing"): in the regional attn2 module, concept A's weights change the output only inside region
 * A's cells; region A's output depends on A's weights, not B's; inside a binary region the module equals
 * plain attn2 on that region's prompt with that region's EWA fold (Q, K/V and to_out all adapted), and
 * outside every region the base attn2 on the global prompt. End to end, a regional run whose region
 * prompts name concepts completes, differs from the run without the library, and a library whose
 * concepts no prompt names changes nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import { TOLERANCE } from '../../golden/env';
import { loadSdxlModel, type LoadedSdxlModel } from '../../engine/sdxl-model';
import { NodeModelFiles } from '../../model/node-model-files';
import type { Tensor } from '../../gpu/tensor';
import { attentionModule, regionalAttentionModule, type RegionalLayer } from '../../model/unet/forward';
import { GpuUNetBackend } from '../../model/unet/gpu-backend';
import { stridedCopy } from '../../ops/strided-copy';
import { concat } from '../../ops/concat';
import { textToImage, type TextToImageParams } from '../../diffusion/text-to-image';
import { EwaLibrary, type EwaPromptStates } from '../ewa/ewa';
import { foldEwa } from '../ewa/fold';
import { syntheticConcepts } from '../ewa/synthetic';
import { crossAttentionLayers } from '../train/layers';
import { combinationCoefficients, conceptPrompts, transpose } from './concept-regions';
import { RegionalStep, regionalPredictor, type RegionPrompt } from './regional-step';

let setup: Promise<{ m: LoadedSdxlModel; lib: EwaLibrary }> | null = null;
function tiny() {
  setup ??= (async () => {
    const ctx = await testContext();
    const m = await loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: ctx.hasF16 ? 'f16' : 'f32' });
    const { model, tokenizers } = m.training;
    const concepts = syntheticConcepts(model.unet.arch, model.encoders.map((e) => e.config.hiddenSize), 3, { seed: 77 });
    const lib = await checked(ctx, 'ewa library', () => EwaLibrary.create(ctx, model, tokenizers, concepts));
    return { m, lib };
  })();
  return setup;
}
afterAll(async () => {
  if (!setup) return;
  const { m, lib } = await setup;
  lib.destroy();
  m.destroy();
});

/** SwiftShader on a busy 2-core machine: layer-wise prompts through the tiny encoders take tens of seconds. */
const SLOW = 900_000;
const GLOBAL = 'a photo of a park';
const PROMPT_A = 'a <s1_1> <s1_2> thing on the grass';
const PROMPT_B = 'a <s2_1> <s2_2> thing on the grass';

describe(`a concept per region on ${TEST_ADAPTER}`, () => {
  it("concept A's weights change attn2 only inside region A; region A does not depend on B's; each region equals its own EWA fold", async () => {
    const { m, lib } = await tiny();
    const { ctx, dtype, unet, unetArch: arch } = m.parts;
    const t = arch.down[1]!.attentions[0]!;
    const prefix = `${t.prefix}.transformer_blocks.0.attn2`;
    const l = crossAttentionLayers(arch).indexOf(prefix);
    expect(l).toBeGreaterThanOrEqual(0);
    const encoded: EwaPromptStates[] = [];
    for (const s of [GLOBAL, PROMPT_A, PROMPT_B]) encoded.push(await checked(ctx, 'encode', () => lib.encodePrompt(s)));
    expect(encoded.map((e) => e.shared)).toEqual([true, false, false]);
    const cp = await checked(ctx, 'concept prompts', () => conceptPrompts(ctx, lib, 'code', encoded, null, dtype));
    const wA = await lib.weights(encoded[1]!.states);
    const wB = await lib.weights(encoded[2]!.states);
    console.log(`[concept regions] layer ${l}: w(A prompt) ${Array.from(wA[l]!).map((x) => x.toFixed(3))}, w(B prompt) ${Array.from(wB[l]!).map((x) => x.toFixed(3))}`);
    expect(wA[l]![0]).toBeGreaterThan(0.9);
    expect(wB[l]![1]).toBeGreaterThan(0.9);

    // a 5×7 grid: region A binary on columns 0-2, region B binary on columns 4-6, column 3 in neither
    const [gh, gw, U] = [5, 7, 2];
    const tq = gh * gw;
    const masks = new Float32Array(U * tq);
    for (let q = 0; q < tq; q++) {
      masks[q] = q % gw < 3 ? 1 : 0;
      masks[tq + q] = q % gw >= 4 ? 1 : 0;
    }
    const x = ctx.upload(randomArray(tq * t.channels, 5), [1, tq, t.channels], dtype, 'x');
    const masksT = ctx.upload(masks, [1, U, tq], 'f32', 'masks');
    const active = ctx.upload(Float32Array.of(1, 1), [1, U], 'f32', 'active');
    const coefficients = ctx.upload(combinationCoefficients(masks, [[1, 1]], U, tq), [1, tq, U + 1], dtype, 'coefficients');
    const scales = await ctx.read(cp.scales[l]!);
    const R = lib.bank.totalRank;
    const P = U + 1;
    /** attn2's output with the layer's scales edited by `edit(scales [P, R])`. */
    const module = async (edit: (s: Float32Array) => void = () => {}) => {
      const s = scales.slice();
      edit(s);
      const st = ctx.upload(s, [P, 1, R], dtype, 'scales');
      const stT = ctx.upload(transpose(s, P, R), [R, P], dtype, 'scales-t');
      const layer: RegionalLayer<Tensor> = { prompts: unet.reshape(cp.positive[l]!, [1, P, 77, cp.positive[l]!.shape[2]!]), masks: masksT, active, lora: { scales: st, scalesT: stT, coefficients, adapters: cp.adapters } };
      const o = await regionalAttentionModule(unet, prefix, t.heads, x, layer);
      const out = await ctx.read(o);
      ctx.release(o, st, stT);
      return out;
    };
    const rank = lib.bank.ranks[0]!; // concept i's columns: [i·rank, (i+1)·rank) (synthetic: equal ranks)
    const zeroPrompt = (p: number) => (s: Float32Array) => s.fill(0, p * R, (p + 1) * R);
    const zeroConcept = (i: number) => (s: Float32Array) => {
      for (let p = 0; p < P; p++) s.fill(0, p * R + i * rank, p * R + (i + 1) * rank);
    };
    const full = await checked(ctx, 'concept attn2', () => module());
    const variants = {
      regionAOff: await module(zeroPrompt(1)),
      regionBOff: await module(zeroPrompt(2)),
      conceptAOff: await module(zeroConcept(0)),
      conceptBOff: await module(zeroConcept(1)),
    };
    const C = t.channels;
    const cell = (d: Float32Array, q: number) => Array.from(d.subarray(q * C, (q + 1) * C));
    const where = (q: number) => (q % gw < 3 ? 'A' : q % gw >= 4 ? 'B' : 'none');
    const change = { A: { conceptAOff: 0, conceptBOff: 0 }, B: { conceptAOff: 0, conceptBOff: 0 } };
    for (let q = 0; q < tq; q++) {
      const w = where(q);
      // region A's EWA acts only in A's cells; region B's only in B's
      if (w !== 'A') expect(cell(variants.regionAOff, q), `cell ${q} (${w}) without region A's weights`).toEqual(cell(full, q));
      else expect(cell(variants.regionAOff, q)).not.toEqual(cell(full, q));
      if (w !== 'B') expect(cell(variants.regionBOff, q), `cell ${q} (${w}) without region B's weights`).toEqual(cell(full, q));
      // the global prompt names no concept: base weights, so no concept reaches the cells outside both regions
      if (w === 'none') {
        expect(cell(variants.conceptAOff, q)).toEqual(cell(full, q));
        expect(cell(variants.conceptBOff, q)).toEqual(cell(full, q));
      } else {
        for (const k of ['conceptAOff', 'conceptBOff'] as const) change[w][k] += compare(Float32Array.from(cell(variants[k], q)), Float32Array.from(cell(full, q))).maxAbs;
      }
    }
    console.log(`[concept regions] summed change of zeroing concept A: in A ${change.A.conceptAOff.toExponential(2)}, in B ${change.B.conceptAOff.toExponential(2)}; concept B: in A ${change.A.conceptBOff.toExponential(2)}, in B ${change.B.conceptBOff.toExponential(2)}`);
    // two concepts of one class word stay apart: each region is shaped by its own concept, the other's
    // LoRA reaches it only through EWA's small weight on it (w < 0.1 above)
    expect(change.B.conceptAOff).toBeLessThan(0.2 * change.A.conceptAOff);
    expect(change.A.conceptBOff).toBeLessThan(0.2 * change.B.conceptBOff);

    // inside region A the module is plain attn2 on A's prompt with A's EWA fold; outside both, base attn2
    // on the global prompt (Q, K/V and to_out all adapted per region, no approximation for binary masks)
    const reference = async (weights: Float64Array[] | null, p: number) => {
      const folded = weights ? await foldEwa(ctx, lib.model.unet.weights, lib.bank, weights, { scale: lib.options.loraScale }) : null;
      const be = new GpuUNetBackend(ctx, folded?.weights ?? lib.model.unet.weights, dtype, 'reference');
      const [, T, Cc] = cp.positive[l]!.shape as [number, number, number];
      const kv = ctx.empty([1, T, Cc], dtype, 'kv');
      await stridedCopy(ctx, cp.positive[l]!, kv, { rows: 1, cols: T * Cc, srcOffset: p * T * Cc });
      const o = await attentionModule(be, prefix, t.heads, x, kv);
      const out = await ctx.read(o);
      ctx.release(o, kv);
      folded?.release();
      return out;
    };
    const refs = { A: await reference(wA, 1), B: await reference(wB, 2), none: await reference(null, 0) };
    const tol = TOLERANCE[dtype].network;
    for (const w of ['A', 'B', 'none'] as const) {
      const cells = Array.from({ length: tq }, (_, q) => q).filter((q) => where(q) === w);
      const got = Float32Array.from(cells.flatMap((q) => cell(full, q)));
      const want = Float32Array.from(cells.flatMap((q) => cell(refs[w], q)));
      const c = compare(got, want);
      console.log(`[concept regions ${dtype}] cells in ${w} vs their own attn2: ${describeComparison(c)}`);
      expect(c.maxRel, `cells in ${w}`).toBeLessThan(tol);
    }
    cp.release();
    ctx.release(x, masksT, active, coefficients);
    for (const e of encoded) ctx.release(e.states, e.pooled!);
  }, SLOW);

  it('end to end: a run whose regions name concepts completes and differs from the run without them; a library no prompt names changes nothing', async () => {
    const { m, lib } = await tiny();
    const { parts } = m;
    const [H, W] = [32, 48];
    const p: TextToImageParams = { prompt: GLOBAL, negativePrompt: 'blurry', width: W, height: H, steps: 2, guidanceScale: 5, scheduler: 'euler', seed: 7 };
    const mask = (left: boolean) => Float32Array.from({ length: H * W }, (_, i) => ((i % W < W / 2) === left ? 1 : 0));
    const named: RegionPrompt[] = [{ prompt: PROMPT_A, negativePrompt: '', mask: mask(true) }, { prompt: PROMPT_B, negativePrompt: '', mask: mask(false) }];
    const plainWords: RegionPrompt[] = [{ prompt: 'a red cube', negativePrompt: '', mask: mask(true) }, { prompt: 'a green ball', negativePrompt: '', mask: mask(false) }];
    const run = async (regions: RegionPrompt[], withLibrary: boolean) => {
      const predictor = regionalPredictor({ ...p }, regions, withLibrary ? { library: lib, form: 'code' } : undefined)!;
      const out = await checked(parts.ctx, 'regional run', () => textToImage(parts, p, { previewEvery: 0, predictor }));
      return out.latents;
    };
    const withConcepts = await run(named, true);
    const without = await run(named, false);
    const d = compare(withConcepts, without);
    console.log(`[concept regions] latents with vs without the library: ${describeComparison(d)}`);
    expect(withConcepts.every(Number.isFinite)).toBe(true);
    expect(d.maxAbs).toBeGreaterThan(1e-3);
    // prompts naming no concept: the plain regional path, bit for bit
    expect(Array.from(await run(plainWords, true))).toEqual(Array.from(await run(plainWords, false)));
  }, SLOW);

  it('concept-aware passes split over several forwards (and one per forward in low-memory mode) give the same predictions', async () => {
    const { m, lib } = await tiny();
    const { parts } = m;
    const { ctx } = parts;
    const [H, W] = [32, 48];
    const mask = (left: boolean) => Float32Array.from({ length: H * W }, (_, i) => ((i % W < W / 2) === left ? 1 : 0));
    const regions: RegionPrompt[] = [{ prompt: PROMPT_A, negativePrompt: 'dark', mask: mask(true) }, { prompt: PROMPT_B, negativePrompt: '', mask: mask(false) }];
    const [neg, cond] = [await parts.encodePrompt('blurry'), await parts.encodePrompt(GLOBAL)];
    const global = { ehs: await concat(ctx, [neg.embeds, cond.embeds], 0), pooled: await concat(ctx, [neg.pooled, cond.pooled], 0) };
    ctx.release(neg.embeds, neg.pooled, cond.embeds, cond.pooled);
    const input = randomArray(4 * (H / 8) * (W / 8), 3);
    const predict = async (extra: { regionMaxBatch?: number; memoryMode?: 'low' }) => {
      const step = await RegionalStep.create(parts, { prompt: GLOBAL, width: W, height: H, guidanceScale: 5, ...extra }, regions, global, { library: lib, form: 'code' });
      expect(step.conceptAware).toBe(true);
      const out = await checked(ctx, 'concept regional predict', () => step.predict(parts.unet, parts.unetArch, input, 500, [H, W, 0, 0, H, W]));
      const forwards = step.forwards;
      step.release();
      return { out, forwards };
    };
    const one = await predict({});
    const split = await predict({ regionMaxBatch: 3 });
    const low = await predict({ memoryMode: 'low' });
    expect([one.forwards, split.forwards, low.forwards]).toEqual([1, 2, 4]);
    expect(Array.from(split.out)).toEqual(Array.from(one.out));
    expect(Array.from(low.out)).toEqual(Array.from(one.out));
    ctx.release(global.ehs, global.pooled);
  }, SLOW);
});
