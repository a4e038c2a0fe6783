/**
 * encodeLayerwise reads the states the CIDM training step reads (src/cidm/train/cidm-step.ts): SDXL's
 * cat(te1, te2) of hidden_states[-2] with te2's text_embeds of the first sequence pooled at EOS, a
 * single encoder's last_hidden_state (SD-1.5); layerContexts stacks [uncond; states[l]] per layer.
 * Checked against the text-encoder forward itself on the tiny golden SDXL's encoders.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { randomArray } from '../../../tests/numeric';
import { loadModelFolder, type LoadedModelFolder } from '../../golden/training/model-folder';
import type { Tensor } from '../../gpu/tensor';
import { releaseTextEncoderOutput, textEncoderForward } from '../../model/text-encoder/forward';
import { encodeLayerwise, layerContexts } from './encode';

const DIR = fileURLToPath(new URL('../../../golden/models/', import.meta.url));
let model: LoadedModelFolder | null = null;
afterAll(() => model?.destroy());

describe(`EWA layer-wise encoding on ${TEST_ADAPTER}`, () => {
  it('SDXL: cat of both penultimate states, pooled at the first sequence\'s EOS; one encoder: its last_hidden_state', async () => {
    const ctx = await testContext();
    model = await loadModelFolder(ctx, DIR, ctx.hasF16 ? 'f16' : 'f32');
    const [te1, te2] = model.encoders as [typeof model.encoders[0], typeof model.encoders[0]];
    const K = 3;
    const extra = [te1, te2].map((te, k) => ctx.upload(randomArray(K * te.config.hiddenSize, 10 + k), [K, te.config.hiddenSize], model!.dtype, `extra ${k}`));
    // two sequences, each with an added token (ids ≥ vocab_size) before EOS; te2 pads with 0
    const seqIds = (pad: number) => [0, 1].flatMap((s) => {
      const ids = [49406, 320, 49408 + s, 49408 + 2, 49407];
      return [...ids, ...Array<number>(77 - ids.length).fill(pad)];
    });
    const ids = [seqIds(49407), seqIds(0)];
    const got = await checked(ctx, 'encode', () => encodeLayerwise(ctx, [te1, te2], extra, ids, { pooled: true }));
    expect(got.states.shape).toEqual([2, 77, te1.config.hiddenSize + te2.config.hiddenSize]);
    const a = await textEncoderForward(ctx, te1, ids[0]!, { hiddenStates: [te1.config.numHiddenLayers - 1], layers: te1.config.numHiddenLayers - 1, final: false, extraEmbeddings: extra[0] });
    const b = await textEncoderForward(ctx, te2, ids[1]!, { hiddenStates: [te2.config.numHiddenLayers - 1], pooling: 'eos', extraEmbeddings: extra[1] });
    const h1 = await ctx.read(a.hiddenStates.get(te1.config.numHiddenLayers - 1)!);
    const h2 = await ctx.read(b.hiddenStates.get(te2.config.numHiddenLayers - 1)!);
    const [c1, c2] = [te1.config.hiddenSize, te2.config.hiddenSize];
    const want = new Float32Array(2 * 77 * (c1 + c2));
    for (let r = 0; r < 2 * 77; r++) {
      want.set(h1.subarray(r * c1, (r + 1) * c1), r * (c1 + c2));
      want.set(h2.subarray(r * c2, (r + 1) * c2), r * (c1 + c2) + c1);
    }
    expect(Array.from(await ctx.read(got.states))).toEqual(Array.from(want));
    const proj = await ctx.read(b.textEmbeds!);
    expect(Array.from(await ctx.read(got.pooled!))).toEqual(Array.from(proj.subarray(0, proj.length / 2)));
    releaseTextEncoderOutput(ctx, a);
    releaseTextEncoderOutput(ctx, b);

    // A single-encoder model (SD-1.5's rule): the last_hidden_state, no pooled embedding without a projection.
    const one = await encodeLayerwise(ctx, [te1], [extra[0]!], [ids[0]!], { pooled: true });
    const full = await textEncoderForward(ctx, te1, ids[0]!, { extraEmbeddings: extra[0] });
    expect(Array.from(await ctx.read(one.states))).toEqual(Array.from(await ctx.read(full.lastHiddenState!)));
    expect(one.pooled).toBeNull();
    releaseTextEncoderOutput(ctx, full);

    // Per-layer contexts [uncond; states[l]], and one shared context for a prompt without concepts.
    const uncond = ctx.upload(randomArray(77 * c1, 3), [1, 77, c1], model.dtype, 'uncond');
    const ctxs = await layerContexts(ctx, one.states, 2, uncond);
    const s = await ctx.read(one.states);
    const u = await ctx.read(uncond);
    for (let l = 0; l < 2; l++) {
      const c = await ctx.read(ctxs.contexts[l]!);
      expect(Array.from(c.subarray(0, 77 * c1))).toEqual(Array.from(u));
      expect(Array.from(c.subarray(77 * c1))).toEqual(Array.from(s.subarray(l * 77 * c1, (l + 1) * 77 * c1)));
    }
    const shared = await layerContexts(ctx, { ...one.states, shape: [1, 77, c1] } as Tensor, 5);
    expect(shared.contexts).toHaveLength(5);
    expect(new Set(shared.contexts).size).toBe(1);
    await expect(layerContexts(ctx, one.states, 3)).rejects.toThrow(/layer states/);
    ctxs.release();
    shared.release();
    ctx.release(uncond, one.states, got.states, got.pooled!, ...extra);
  }, 600_000);
});
