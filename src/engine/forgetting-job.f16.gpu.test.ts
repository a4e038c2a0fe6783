/**
 * The forgetting dashboard's job on the tiny golden SDXL (golden/models) in Node/Dawn, over a library of
 * seeded synthetic concepts (cidm/ewa/synthetic.ts: the job needs concepts, not trained ones): the matrix
 * is task × concept in library order, null above the diagonal and in the column of a concept without a
 * probe, concepts of another model are left out, progress comes per cell, cancel stops between cells,
 * and every diagonal cell equals a direct computation: EWA's weights applied UNFOLDED (fused LoRA per
 * attn2 linear) on the latents of our own VAE encode, the draws of the spec's seed, and the masked ε-MSE
 * computed on the CPU from the prediction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../gpu/context';
import { NodeModelFiles } from '../model/node-model-files';
import { destroyVae } from '../model/vae/load';
import { GpuUNetBackend } from '../model/unet/gpu-backend';
import { unetForward } from '../model/unet/forward';
import { EwaLibrary } from '../cidm/ewa/ewa';
import { layerContexts } from '../cidm/ewa/encode';
import { syntheticConcepts } from '../cidm/ewa/synthetic';
import type { Concept } from '../cidm/concepts/concept';
import { probeDraw } from '../cidm/forgetting/ewa-loss';
import { DdpmNoiser } from '../cidm/train/noising';
import { loadSdxlModel, type LoadedSdxlModel } from './sdxl-model';
import { encodePhotos, maskToLatent } from './train-photos';
import { probeCaption, runForgettingJob } from './forgetting-job';
import type { EngineProgress, ForgettingJobSpec, TrainPhoto } from './protocol';
import { TEST_ADAPTER, testContext } from '../../tests/gpu-harness';

const SIZE = 64; // latent 8×8

/** A 64×64 photo: a background gradient and a coloured square at (oy, ox); its mask the square. */
function photo(oy: number, ox: number, hue: number): TrainPhoto {
  const rgba = new Uint8ClampedArray(SIZE * SIZE * 4);
  const mask = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = y * SIZE + x;
      const inside = y >= oy && y < oy + 24 && x >= ox && x < ox + 24;
      mask[i] = inside ? 1 : 0;
      rgba.set(inside ? [hue, ((x - ox) * 37) % 255, 255 - hue, 255] : [40 + y, 60 + x, 90, 255], i * 4);
    }
  }
  return { rgba: { width: SIZE, height: SIZE, rgba }, mask };
}

describe(`the forgetting job (${TEST_ADAPTER})`, () => {
  let ctx: GpuContext;
  let model: LoadedSdxlModel;
  let library: Concept[];
  const DRAWS = 2;
  const SEED = 11;

  beforeAll(async () => {
    ctx = await testContext();
    model = await loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: ctx.hasF16 ? 'f16' : 'f32' });
    const m = model.training.model;
    const made = syntheticConcepts(m.unet.arch, m.encoders.map((te) => te.config.hiddenSize), 4, { seed: 5, loraStd: 0.2 });
    // concept 1 trained masked, 2 unmasked (its masks are ignored), 3 of another model, 4 masked
    library = made.map((c, i) => ({ ...c, modelId: i === 2 ? 'other' : 'tiny', hyper: { ...c.hyper, masked: i !== 1, resolution: SIZE } }));
  }, 600_000);
  afterAll(() => model?.destroy());

  const spec = (): ForgettingJobSpec => ({
    seed: SEED,
    draws: DRAWS,
    probes: [
      { conceptId: library[0]!.id, photos: [photo(8, 16, 220), photo(30, 24, 200)] },
      { conceptId: library[1]!.id, photos: [photo(20, 4, 60)], captionTemplate: 'style' },
      // library[3] (the third of this model) has no probe: its column stays null
    ],
  });

  /** The loss of concept `i` (index into `lib`) through EWA over `lib`, without the fold and with the loss on the CPU. */
  async function direct(lib: readonly Concept[], i: number, p: ForgettingJobSpec['probes'][number], masked: boolean): Promise<number> {
    const t = model.training;
    const m = t.model;
    const vae = await t.loadVaeEncoder();
    const latents = await encodePhotos(ctx, vae, p.photos);
    destroyVae(ctx, vae);
    const ewa = await EwaLibrary.create(ctx, m, t.tokenizers, lib);
    const prompt = await ewa.encodePrompt(probeCaption(lib[i]!, p.captionTemplate));
    const weights = await ewa.weights(prompt.states);
    const adapters = await ewa.adapters(weights);
    const contexts = await layerContexts(ctx, prompt.states, ewa.layers);
    const be = new GpuUNetBackend(ctx, m.unet.weights, m.dtype, 'unet', adapters.lora);
    const noiser = new DdpmNoiser(t.schedule);
    const C = m.unet.arch.inChannels;
    const n = SIZE / 8;
    let sum = 0;
    let count = 0;
    for (const [k, x0] of latents.entries()) {
      const mask = masked ? maskToLatent(p.photos[k]!.mask!, SIZE, n) : new Float32Array(n * n).fill(1);
      const msum = mask.reduce((a, v) => a + v, 0);
      for (let d = 0; d < DRAWS; d++) {
        const { noise, timestep } = probeDraw(SEED, k, d, x0.length, noiser.numTrainTimesteps);
        const noisy = ctx.upload(noiser.addNoise(x0, noise, 1, [timestep]), [1, C, n, n], m.dtype, 'direct noisy');
        const pred = await unetForward(be, m.unet.arch, {
          sample: noisy, timesteps: [timestep], encoderHiddenStates: contexts.contexts[0]!, layerContexts: contexts.contexts,
          textEmbeds: prompt.pooled!, timeIds: [SIZE, SIZE, 0, 0, SIZE, SIZE],
        });
        const e = await ctx.read(pred);
        ctx.release(noisy, pred);
        let s = 0;
        for (let c = 0; c < C; c++) for (let q = 0; q < n * n; q++) s += mask[q]! * (e[c * n * n + q]! - noise[c * n * n + q]!) ** 2;
        // masked: Σ mask·(ε̂ − ε)² / Σ mask (CIDM's form); plain: the mean over all C·h·w values
        sum += masked ? s / msum : s / (C * n * n);
        count++;
      }
    }
    contexts.release();
    adapters.release();
    ctx.releaseLive(prompt.states, ...(prompt.pooled ? [prompt.pooled] : []));
    ewa.destroy();
    return sum / count;
  }

  it('gives the task × concept matrix: nulls above the diagonal and without a probe, per-cell progress, the diagonal as a direct computation', async () => {
    const events: EngineProgress[] = [];
    const t0 = performance.now();
    const r = await runForgettingJob(ctx, model.training, library, spec(), { modelId: 'tiny', onProgress: (p) => events.push(p) });
    console.log(`[forgetting-job ${TEST_ADAPTER}] 3 tasks, 2 probes, ${DRAWS} draws: ${((performance.now() - t0) / 1000).toFixed(1)} s; ${JSON.stringify(r.matrix)}`);
    const ids = [library[0]!.id, library[1]!.id, library[3]!.id];
    expect(r.conceptIds).toEqual(ids);
    expect(r.matrix.length).toBe(3);
    for (const [j, row] of r.matrix.entries()) {
      expect(row.length).toBe(3);
      for (const [i, v] of row.entries()) {
        if (i > j || i === 2) expect(v).toBeNull();
        else expect(Number.isFinite(v) && v! > 0).toBe(true);
      }
    }
    const cells = events.flatMap((p) => (p.status === 'forgetting' ? [[p.done, p.total]] : []));
    expect(cells).toEqual([[0, 5], [1, 5], [2, 5], [3, 5], [4, 5], [5, 5]]);
    expect(events.filter((p) => p.status === 'load').every((p) => p.status === 'load' && p.component === 'vae_encoder')).toBe(true);
    // a later task changes the library, so the score of concept 1 moves
    expect(r.matrix[1]![0]).not.toBe(r.matrix[0]![0]);

    const lib = [library[0]!, library[1]!];
    const d0 = await direct(lib.slice(0, 1), 0, spec().probes[0]!, true);
    const d1 = await direct(lib, 1, spec().probes[1]!, false);
    console.log(`[forgetting-job ${TEST_ADAPTER}] diagonal: job ${r.matrix[0]![0]} / ${r.matrix[1]![1]}, direct ${d0} / ${d1}`);
    const tol = ctx.hasF16 ? 1e-2 : 1e-4;
    expect(Math.abs(r.matrix[0]![0]! - d0) / d0).toBeLessThan(tol);
    expect(Math.abs(r.matrix[1]![1]! - d1) / d1).toBeLessThan(tol);
  }, 1_200_000);

  it('stops between cells when cancelled', async () => {
    const ac = new AbortController();
    const done: number[] = [];
    const run = runForgettingJob(ctx, model.training, library, spec(), {
      modelId: 'tiny',
      signal: ac.signal,
      onProgress: (p) => {
        if (p.status !== 'forgetting') return;
        done.push(p.done);
        if (p.done === 1) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(done).toEqual([0, 1]);
  }, 1_200_000);

  it('refuses a probe of a concept outside the library before any GPU work', async () => {
    const events: EngineProgress[] = [];
    const bad = { ...spec(), probes: [{ conceptId: 'nope', photos: [photo(0, 0, 1)] }] };
    await expect(runForgettingJob(ctx, model.training, library, bad, { onProgress: (p) => events.push(p) })).rejects.toThrow(/not in the engine's library/);
    expect(events).toEqual([]);
  });
});
