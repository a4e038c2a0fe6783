/**
 * Generating with concepts of the engine's library (EWA, spec §3.2) on the tiny golden SDXL: a prompt
 * naming a concept gives exactly the image of a direct EwaLibrary.prepare + sampling loop written out
 * here (folded weights, layer-wise states, the negative prompt encoded as usual through the same
 * folded weights), and differs from the same prompt without the library; a prompt that names no
 * concept gives exactly the image it gives with an empty library; low-memory mode (sequential CFG)
 * gives the same image; the run takes the GPU sampling loop (no UNet output read back); a concept of
 * another model is refused by name; the fold is freed after the
 * run and the library when it is replaced; regions without coverage fall back to the EWA run, and a
 * regional run reports the concepts of its region prompts too.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { numel, type Tensor } from '../gpu/tensor';
import { TEST_ADAPTER } from '../../tests/gpu-harness';
import { concat } from '../ops/concat';
import { unetForward } from '../model/unet/forward';
import { GpuUNetBackend } from '../model/unet/gpu-backend';
import { NodeModelFiles } from '../model/node-model-files';
import { createScheduler } from '../diffusion/schedulers';
import { initialNoise } from '../diffusion/rng';
import { classifierFreeGuidance, latentSize, sdxlTimeIds } from '../diffusion/sdxl-conditioning';
import { imageToRgba } from '../diffusion/latent-preview';
import { EwaLibrary } from '../cidm/ewa/ewa';
import { layerContexts } from '../cidm/ewa/encode';
import { syntheticConcepts } from '../cidm/ewa/synthetic';
import type { Concept } from '../cidm/concepts/concept';
import { loadSdxlModel } from './sdxl-model';
import type { GenerateParams } from './protocol';
import { tinyEngine } from './engine-test-kit';

const [W, H] = [64, 48];
const PARAMS: GenerateParams = {
  prompt: 'a photo of <s1_1> <s1_2> on a table',
  negativePrompt: 'blurry',
  width: W,
  height: H,
  steps: 2,
  guidanceScale: 5,
  scheduler: 'euler',
  seed: 99,
  previewEvery: 0,
};
const SLOW = 900_000;

const maxDiff = (a: Uint8ClampedArray, b: Uint8ClampedArray) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe(`generate with library concepts (EWA) on ${TEST_ADAPTER}`, () => {
  const { engine: e, ctx } = tinyEngine();
  afterAll(() => e.dispose());
  let concepts: Concept[] = [];

  it('a prompt naming a concept equals the direct EWA reference and differs from no library; other prompts are untouched; the fold is freed', async () => {
    await e.load({ type: 'stored', id: 'tiny' }, 'auto');
    const c = ctx();
    const persistentModel = c.persistentLive;
    // the reference side: the same model loaded again on the engine's device
    const ref = await loadSdxlModel(c, new NodeModelFiles('golden/models', 'tiny'), { dtype: c.hasF16 ? 'f16' : 'f32' });
    const m = ref.training.model;
    concepts = syntheticConcepts(m.unet.arch, m.encoders.map((te) => te.config.hiddenSize), 2, { seed: 31 }).map((k) => ({ ...k, modelId: 'tiny' }));

    const plainConcept = await e.generate(PARAMS); // empty library: the placeholders are plain text
    const persistentBase = c.persistentLive;
    const pooledBase = c.pool.stats.liveBytes;
    await e.setConcepts(concepts);
    const ewa = await e.generate(PARAMS);
    expect(ewa.concepts).toEqual([{ id: 'synthetic-1', name: 'synthetic 1' }]);
    expect(maxDiff(ewa.image.rgba, plainConcept.image.rgba)).toBeGreaterThan(10);

    // the library stays for the next prompt; the fold and the run's tensors do not
    const persistentLib = c.persistentLive;
    const pooledLib = c.pool.stats.liveBytes;
    expect(persistentLib).toBeGreaterThan(persistentBase); // the library's token rows and LoRA bank
    // the run takes the GPU sampling loop (engine-ewa.ts onGpu): no UNet output is read back
    const { h: lh, w: lw } = latentSize(H, W);
    const reads = vi.spyOn(c, 'read');
    const again = await e.generate(PARAMS);
    const unetReads = reads.mock.calls.filter(([t]) => numel((t as Tensor).shape) === 2 * 4 * lh * lw).length;
    reads.mockRestore();
    expect(unetReads).toBe(0);
    expect(again.image.rgba).toEqual(ewa.image.rgba);
    expect(c.persistentLive).toBe(persistentLib);
    expect(c.pool.stats.liveBytes).toBe(pooledLib);

    // the reference: EwaLibrary.prepare, then the loop written out with the folded UNet
    const lib = await EwaLibrary.create(c, m, ref.training.tokenizers, concepts);
    const parts = ref.parts;
    const prep = await lib.prepare(PARAMS.prompt);
    const neg = await parts.encodePrompt(PARAMS.negativePrompt);
    const ctxs = await layerContexts(c, prep.prompt.states, lib.layers, neg.embeds);
    const textEmbeds = await concat(c, [neg.pooled, prep.prompt.pooled!], 0);
    const unet = new GpuUNetBackend(c, prep.folded.weights, parts.dtype, 'reference EWA unet');
    const sched = createScheduler('euler', parts.schedulerConfig, PARAMS.steps);
    const { h, w } = latentSize(H, W);
    let latents: Float32Array = initialNoise(PARAMS.seed, 4 * h * w).map((v) => v * sched.initNoiseSigma);
    for (const [i, t] of sched.timesteps.entries()) {
      const input = sched.scaleModelInput(latents, i);
      const sample = c.upload([...input, ...input], [2, 4, h, w], parts.dtype, 'reference sample');
      const out = await unetForward(unet, parts.unetArch, {
        sample, timesteps: [t, t], encoderHiddenStates: ctxs.contexts[0]!, layerContexts: ctxs.contexts, textEmbeds, timeIds: [...sdxlTimeIds(H, W), ...sdxlTimeIds(H, W)],
      });
      latents = sched.step(classifierFreeGuidance(await c.read(out), PARAMS.guidanceScale), i, latents);
      c.release(out, sample);
    }
    const z = c.upload(latents.map((v) => v / parts.vaeScalingFactor), [1, 4, h, w], parts.vaeDtype, 'reference latents');
    const decoded = await parts.decode(z);
    const raw = await c.read(decoded);
    c.release(decoded, z, textEmbeds, neg.embeds, neg.pooled);
    ctxs.release();
    prep.release();
    lib.destroy();
    ref.destroy();
    const expected = imageToRgba(raw.map((v) => Math.min(1, Math.max(0, v / 2 + 0.5))), H, W);
    const d = maxDiff(ewa.image.rgba, expected.rgba);
    console.log(`[engine-ewa ${TEST_ADAPTER}] engine vs direct EWA reference: max |Δ| ${d}; vs no library ${maxDiff(ewa.image.rgba, plainConcept.image.rgba)}`);
    // the engine's GPU loop fuses CFG and the Euler step into one f32 expression (sampler_step.wgsl);
    // the reference runs them on the host in another order: at most a rounding level apart
    expect(d).toBeLessThanOrEqual(1);

    // a prompt that names no concept: exactly the image it gives with an empty library
    const plainPrompt = { ...PARAMS, prompt: 'a photo of a dog on a table' };
    const withLib = await e.generate(plainPrompt);
    expect(withLib.concepts).toEqual([]);
    await e.setConcepts([]);
    expect(c.persistentLive).toBe(persistentModel); // the replaced library was destroyed (and the reference model)
    expect(c.pool.stats.liveBytes).toBe(pooledBase);
    const without = await e.generate(plainPrompt);
    expect(without.image.rgba).toEqual(withLib.image.rgba);
  }, SLOW);

  it('low-memory mode (sequential CFG) gives the EWA image; regions without coverage fall back to it; another model\'s concept is refused by name', async () => {
    await e.setConcepts(concepts);
    const ewa = await e.generate(PARAMS);
    const low = await e.generate({ ...PARAMS, memoryMode: 'low' });
    expect(low.concepts).toEqual([{ id: 'synthetic-1', name: 'synthetic 1' }]);
    // batch 1 instead of 2: only a matmul's tile/summation choice may differ with the row count
    expect(maxDiff(low.image.rgba, ewa.image.rgba)).toBeLessThanOrEqual(1);

    // the paper's ψ (spec §3.3) weighs the concepts differently: the request's form reaches the fold
    const paper = await e.generate({ ...PARAMS, ewaForm: 'paper' });
    expect(maxDiff(paper.image.rgba, ewa.image.rgba)).toBeGreaterThan(0);

    // a region whose mask is empty changes nothing: the run is the non-regional EWA run
    const empty = await e.generate({ ...PARAMS, regions: [{ prompt: 'a <s2_1> <s2_2>', negativePrompt: '', mask: new Float32Array(W * H) }] });
    expect(empty.image.rgba).toEqual(ewa.image.rgba);
    expect(empty.concepts).toEqual([{ id: 'synthetic-1', name: 'synthetic 1' }]);
    // a covered region: the regional predictor owns the run; the result names the global and the region's concepts
    const half = Float32Array.from({ length: W * H }, (_, i) => (i % W < W / 2 ? 1 : 0));
    const regional = await e.generate({ ...PARAMS, regions: [{ prompt: 'a <s2_1> <s2_2>', negativePrompt: '', mask: half }] });
    expect(regional.concepts).toEqual([{ id: 'synthetic-1', name: 'synthetic 1' }, { id: 'synthetic-2', name: 'synthetic 2' }]);
    expect(maxDiff(regional.image.rgba, ewa.image.rgba)).toBeGreaterThan(0);

    // a concept learned on another model: refused by its word, its name and both models, before any GPU work
    const foreign: Concept = { ...concepts[1]!, id: 'foreign', name: 'Other dog', placeholders: ['<od1>', '<od2>'], modelId: 'sdxl-other', taskIndex: 3 };
    await e.setConcepts([...concepts, foreign]);
    const steps: number[] = [];
    await expect(e.generate({ ...PARAMS, prompt: 'a photo of <od1> <od2>' }, { onProgress: (p) => p.status === 'step' && steps.push(p.step) })).rejects.toMatchObject({
      name: 'ConceptModelMismatchError',
      code: 'concept-model-mismatch',
      message: expect.stringMatching(/"<od1>" of the concept "Other dog".*"sdxl-other".*"tiny" is loaded/),
    });
    expect(steps).toEqual([]);
    // the same library still serves this model's concepts
    const still = await e.generate(PARAMS);
    expect(still.image.rgba).toEqual(ewa.image.rgba);
  }, SLOW);
});
