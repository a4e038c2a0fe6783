/**
 * The GPU sampling loop (gpu-sampling.ts) against the host loop it replaces, on the tiny golden SDXL at an
 * odd latent size (5×7): every sampler the GPU loop runs (PNDM included), CFG on and off, a v-prediction
 * config, an image-to-image start part-way through the schedule (DPM++ 2M's first step taken is first
 * order; PNDM's counter starts again), and
 * torch-compatible ancestral noise; for every sampler a masked 4-channel inpaint (the blend after each step,
 * soft mask edge) with guidance rescale, guidance rescale alone, and a 9-channel inpainting UNet (the tiny
 * UNet with conv_in widened to 9 input channels). Same seed, same inputs: the latents after the run, the decoded image
 * and every step's preview must agree (the host loop is the reference; schedulers are compared
 * coefficient by coefficient in schedulers/linear-step.test.ts, the kernel in ops/sampler-step.gpu.test.ts).
 * Low-memory CFG (the two CFG passes at batch 1) too, plain and with rescale + inpaint; regional synthesis
 * on the GPU loop is checked in src/cidm/regional/regional-gpu-loop.gpu.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison } from '../../tests/numeric';
import { loadSdxlModel, type LoadedSdxlModel } from '../engine/sdxl-model';
import { NodeModelFiles } from '../model/node-model-files';
import type { PreviewImage } from './latent-preview';
import type { SchedulerKind } from './schedulers';
import { textToImage, type TextToImageParams } from './text-to-image';
import { randomArray } from '../../tests/numeric';
import type { Tensor } from '../gpu/tensor';

let model: Promise<LoadedSdxlModel> | null = null;
async function tiny(): Promise<LoadedSdxlModel> {
  const ctx = await testContext();
  model ??= loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: ctx.hasF16 ? 'f16' : 'f32' });
  return model;
}

// Both loops round the UNet input and output to the same storage dtype, so they differ only by the
// association of the fused linear step (measured ≤ 3.1e-6 on SwiftShader). On lavapipe the model is f16:
// where the two loops' f32 latents straddle an f16 rounding boundary, one UNet input element rounds to
// the neighbouring f16 value (a relative step of 2⁻¹⁰ ≈ 9.8e-4), and the next forward carries that on.
// Runs are deterministic (each loop gives the same bits run after run); measured: 6.1e-4 for Euler a
// with guidance rescale after the small-layer kernels changed the UNet's roundings, ≤ 2e-7 elsewhere.
const TOL = TEST_ADAPTER === 'lavapipe' ? 2e-3 : 1e-4;

async function both(p: TextToImageParams, withModel?: (m: LoadedSdxlModel) => LoadedSdxlModel['parts']) {
  const m = await tiny();
  const parts = withModel ? withModel(m) : m.parts;
  const previews: { host: PreviewImage[]; gpu: PreviewImage[] } = { host: [], gpu: [] };
  const host = await textToImage(parts, p, { hostLoop: true, onProgress: (e) => e.status === 'step' && e.preview && previews.host.push(e.preview) });
  const gpu = await textToImage(parts, p, { onProgress: (e) => e.status === 'step' && e.preview && previews.gpu.push(e.preview) });
  return { host, gpu, previews };
}

function expectClose(what: string, got: Float32Array, want: Float32Array, tol: number) {
  const c = compare(got, want);
  console.log(`[gpu-sampling ${TEST_ADAPTER}] ${what} ${describeComparison(c)}`);
  expect(c.maxRel, `${what}: ${describeComparison(c)}`).toBeLessThan(tol);
}

const base: TextToImageParams = { prompt: 'a red cube', negativePrompt: 'blurry', width: 40, height: 56, steps: 4, guidanceScale: 5, scheduler: 'euler', seed: 7 };

// an init image and a mask over its left part with a soft edge (a blurred mask), 1 = repaint
const initRgba = Uint8ClampedArray.from({ length: base.width * base.height * 4 }, (_, i) => (i * 37) % 251);
const mask = Float32Array.from({ length: base.width * base.height }, (_, p) => {
  const x = p % base.width;
  return x < 16 ? 1 : x < 24 ? 0.6 : 0;
});

/** The tiny UNet as a 9-channel inpainting UNet: conv_in takes 5 more input channels (random weights). */
async function nineChannel(m: LoadedSdxlModel): Promise<LoadedSdxlModel['parts']> {
  const { ctx, unet, unetArch } = m.parts;
  const w = unet.weight('conv_in.weight');
  const [cout, cin, kh, kw] = w.shape as [number, number, number, number];
  const old = await ctx.read(w);
  const extra = randomArray(cout * 5 * kh * kw, 21, -0.05, 0.05);
  const wide = new Float32Array(cout * 9 * kh * kw);
  const k = kh * kw;
  for (let o = 0; o < cout; o++) {
    wide.set(old.subarray(o * cin * k, (o + 1) * cin * k), o * 9 * k);
    wide.set(extra.subarray(o * 5 * k, (o + 1) * 5 * k), o * 9 * k + cin * k);
  }
  const convIn: Tensor = ctx.upload(wide, [cout, 9, kh, kw], w.dtype, 'conv_in.weight (9-channel)');
  const wideUnet = new Proxy(unet, {
    get(target, prop) {
      if (prop === 'weight') return (name: string) => (name === 'conv_in.weight' ? convIn : target.weight(name));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { ...m.parts, unet: wideUnet, unetArch: { ...unetArch, inChannels: 9, convIn: { ...unetArch.convIn, cin: 9 } } };
}

describe(`GPU sampling loop = host loop on the tiny SDXL (${TEST_ADAPTER})`, () => {
  // PNDM's 4 steps are 5 UNet calls: its first step, the re-step, then PLMS of order 2, 3 and 4 (the
  // last reads all three stored outputs and overwrites the oldest)
  const kinds: SchedulerKind[] = ['euler', 'euler_ancestral', 'ddim', 'dpmpp_2m', 'dpmpp_2m_karras', 'pndm'];
  for (const scheduler of kinds)
    it(`${scheduler}, CFG 5`, async () => {
      const { host, gpu, previews } = await both({ ...base, scheduler });
      expectClose(`${scheduler} latents`, gpu.latents, host.latents, TOL);
      expectClose(`${scheduler} image`, gpu.image, host.image, TOL);
      expect(previews.gpu.length).toBe(previews.host.length);
      expect(previews.gpu.length).toBe(base.steps + (scheduler === 'pndm' ? 1 : 0));
      expect(previews.gpu.map((p) => [p.width, p.height])).toEqual(previews.host.map((p) => [p.width, p.height]));
      // 8-bit previews: at most a couple of levels apart where a value sits at a rounding edge
      const worst = previews.gpu.reduce((m, p, s) => Math.max(m, p.rgba.reduce((mm, v, i) => Math.max(mm, Math.abs(v - previews.host[s]!.rgba[i]!)), 0)), 0);
      expect(worst).toBeLessThanOrEqual(1);
    }, 300_000);

  it('no CFG (scale 1, batch 1), torch-cpu ancestral noise', async () => {
    const { host, gpu } = await both({ ...base, guidanceScale: 1, scheduler: 'euler_ancestral', noiseSource: 'torch-cpu' });
    expectClose('no-CFG latents', gpu.latents, host.latents, TOL);
  }, 300_000);

  it('v-prediction with zero terminal SNR (DPM++ 2M, trailing)', async () => {
    const { host, gpu } = await both({ ...base, scheduler: 'dpmpp_2m' }, (m) => ({
      ...m.parts,
      schedulerConfig: { ...m.parts.schedulerConfig, prediction_type: 'v_prediction', rescale_betas_zero_snr: true, timestep_spacing: 'trailing' },
    }));
    expectClose('v-pred latents', gpu.latents, host.latents, TOL);
  }, 300_000);

  for (const scheduler of ['dpmpp_2m', 'pndm'] as const)
    it(`image to image from part-way through the schedule (strength 0.6, ${scheduler})`, async () => {
      const { host, gpu } = await both({ ...base, steps: 5, scheduler, init: { rgba: initRgba, strength: 0.6 } });
      expectClose(`img2img ${scheduler} latents`, gpu.latents, host.latents, TOL);
    }, 300_000);

  for (const scheduler of kinds)
    it(`${scheduler}: masked inpaint (4-channel blend, strength 0.8) with guidance rescale 0.7`, async () => {
      const { host, gpu } = await both({ ...base, steps: 5, scheduler, guidanceRescale: 0.7, init: { rgba: initRgba, strength: 0.8, mask } });
      expectClose(`${scheduler} inpaint+rescale latents`, gpu.latents, host.latents, TOL);
      expectClose(`${scheduler} inpaint+rescale image`, gpu.image, host.image, TOL);
    }, 300_000);

  it('guidance rescale alone (Euler a, text to image)', async () => {
    const { host, gpu } = await both({ ...base, scheduler: 'euler_ancestral', guidanceRescale: 0.5 });
    expectClose('rescale latents', gpu.latents, host.latents, TOL);
  }, 300_000);

  // low-memory CFG (sequential-cfg.ts): the two batch-1 passes write one [2, C, h, w] buffer on the GPU
  // loop; the host loop reads each pass back and runs CFG in TS
  for (const scheduler of ['euler', 'euler_ancestral', 'dpmpp_2m'] as const)
    it(`low-memory CFG (two batch-1 passes), ${scheduler}`, async () => {
      const { host, gpu, previews } = await both({ ...base, scheduler, lowMemory: true });
      expectClose(`low-memory ${scheduler} latents`, gpu.latents, host.latents, TOL);
      expectClose(`low-memory ${scheduler} image`, gpu.image, host.image, TOL);
      expect(previews.gpu.length).toBe(base.steps);
      if (scheduler !== 'euler') return;
      // the batch-1 passes give the batched run's prediction (the UNet treats batch elements independently)
      const batched = await textToImage((await tiny()).parts, { ...base, scheduler });
      expectClose(`low-memory ${scheduler} vs batched latents`, gpu.latents, batched.latents, TOL);
    }, 300_000);

  it('low-memory CFG with guidance rescale 0.7 and a masked inpaint (DPM++ 2M Karras)', async () => {
    const { host, gpu } = await both({ ...base, steps: 5, scheduler: 'dpmpp_2m_karras', lowMemory: true, guidanceRescale: 0.7, init: { rgba: initRgba, strength: 0.8, mask } });
    expectClose('low-memory inpaint+rescale latents', gpu.latents, host.latents, TOL);
  }, 300_000);

  for (const scheduler of ['euler', 'dpmpp_2m'] as const)
    it(`9-channel inpainting UNet (${scheduler}, masked, strength 1)`, async () => {
      const parts = await nineChannel(await tiny());
      const { host, gpu } = await both({ ...base, scheduler, init: { rgba: initRgba, strength: 1, mask } }, () => parts);
      expectClose(`9-channel ${scheduler} latents`, gpu.latents, host.latents, TOL);
    }, 300_000);
});
