/**
 * Regional synthesis on the GPU sampling loop (the predictor's GPU form: its forwards on the loop's
 * one-row input, E* by shaders/regional_noise_aggregation.wgsl, no readback inside a step) against the
 * host loop (`hostLoop: true`: RegionalStep.predict reads the passes back, combinePasses in TS), on the
 * tiny golden SDXL at an odd latent size (5×7): two soft overlapping regions with CFG, three regions
 * split over several forwards without CFG, one region (E_u = E) in a masked inpaint with ancestral
 * noise. Same seed and inputs: every step's passes and E*, the final latents and the image must agree.
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison } from '../../../tests/numeric';
import { loadSdxlModel, type LoadedSdxlModel } from '../../engine/sdxl-model';
import { NodeModelFiles } from '../../model/node-model-files';
import { textToImage, type StepRecord, type TextToImageParams, type TextToImageResult } from '../../diffusion/text-to-image';
import { fromF16Array, toF16Array } from '../../gpu/f16';
import { regionalPredictor, type RegionalParams, type RegionPrompt } from './regional-step';

let model: Promise<LoadedSdxlModel> | null = null;
async function tiny(): Promise<LoadedSdxlModel> {
  const ctx = await testContext();
  model ??= loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: ctx.hasF16 ? 'f16' : 'f32' });
  return model;
}

// as gpu-sampling.gpu.test.ts: both loops round the UNet input and output to the same storage dtype;
// they differ by f32 association (the aggregation and the fused step)
const TOL = 1e-4;
const H = 56;
const W = 40;
const BASE: TextToImageParams = { prompt: 'a red cube', negativePrompt: 'blurry', width: W, height: H, steps: 3, guidanceScale: 5, scheduler: 'euler', seed: 11 };
const maskOf = (f: (y: number, x: number) => number) => Float32Array.from({ length: H * W }, (_, i) => f(Math.floor(i / W), i % W));

type RegionalRun = TextToImageParams & Omit<RegionalParams, 'width' | 'height' | 'guidanceScale'> & { regions: RegionPrompt[] };

async function loop(p: RegionalRun, hostLoop: boolean): Promise<{ out: TextToImageResult; steps: StepRecord[] }> {
  const m = await tiny();
  const steps: StepRecord[] = [];
  const predictor = regionalPredictor(p, p.regions) ?? undefined;
  expect(predictor).toBeDefined();
  const out = await checked(m.parts.ctx, 'textToImage', () => textToImage(m.parts, p, { hostLoop, previewEvery: 0, predictor, observer: { step: (s) => steps.push(s) } }));
  return { out, steps };
}

function expectClose(what: string, got: Float32Array, want: Float32Array) {
  const c = compare(got, want);
  console.log(`[regional gpu loop ${TEST_ADAPTER}] ${what} ${describeComparison(c)}`);
  expect(c.maxRel, `${what}: ${describeComparison(c)}`).toBeLessThan(TOL);
}

async function bothLoops(p: RegionalRun, passes: number) {
  // the GPU loop records its input as stored in the UNet's dtype; the host loop before the upload
  const stored = (await tiny()).parts.dtype === 'f16' ? (a: Float32Array) => fromF16Array(toF16Array(a)) : (a: Float32Array) => a;
  const host = await loop(p, true);
  const gpu = await loop(p, false);
  const n = 4 * (H / 8) * (W / 8);
  // an edit starts part-way through the schedule: both loops take the same steps
  expect(gpu.steps.length).toBe(host.steps.length);
  expect(gpu.steps.length).toBeGreaterThan(0);
  for (const [s, g] of gpu.steps.entries()) {
    const h = host.steps[s]!;
    expect(g.noisePred.length).toBe(passes * n);
    expectClose(`step ${s} model input`, g.modelInput, stored(h.modelInput));
    expectClose(`step ${s} passes`, g.noisePred, h.noisePred);
    expectClose(`step ${s} E*`, g.guided, h.guided);
  }
  expectClose('latents', gpu.out.latents, host.out.latents);
  expectClose('image', gpu.out.image, host.out.image);
}

describe(`regional synthesis on the GPU loop = host loop (${TEST_ADAPTER})`, () => {
  it('two soft overlapping regions with CFG (Euler): one forward of 4 passes', async () => {
    await bothLoops(
      {
        ...BASE,
        regions: [
          { prompt: 'a green ball', negativePrompt: '', mask: maskOf((_, x) => (x < 24 ? (x < 18 ? 1 : 0.5) : 0)) },
          { prompt: 'a tree', negativePrompt: 'dark', mask: maskOf((y, x) => (y < 32 && x >= 12 ? 0.8 : 0)) },
        ],
      },
      4,
    );
  }, 600_000);

  it('three regions split over forwards of 2 passes, no CFG (DPM++ 2M, α 0.3)', async () => {
    await bothLoops(
      {
        ...BASE,
        guidanceScale: 1,
        scheduler: 'dpmpp_2m',
        regionMaxBatch: 2,
        regionAlpha: 0.3,
        regions: [
          { prompt: 'a green ball', negativePrompt: '', mask: maskOf((_, x) => (x < 16 ? 1 : 0)) },
          { prompt: 'a tree', negativePrompt: '', mask: maskOf((y) => (y < 20 ? 0.5 : 0)) },
          { prompt: 'a blue sky', negativePrompt: '', mask: maskOf((y, x) => (y > 30 && x > 20 ? 1 : 0)) },
        ],
      },
      4,
    );
  }, 600_000);

  it('one region (its estimate is E) in a masked inpaint with ancestral noise (Euler a)', async () => {
    const rgba = Uint8ClampedArray.from({ length: W * H * 4 }, (_, i) => (i * 37) % 251);
    await bothLoops(
      {
        ...BASE,
        scheduler: 'euler_ancestral',
        init: { rgba, strength: 0.8, mask: maskOf((_, x) => (x < 20 ? 1 : 0)) },
        regions: [{ prompt: 'a green ball', negativePrompt: '', mask: maskOf((y) => (y < 28 ? 1 : 0)) }],
      },
      2,
    );
  }, 600_000);
});
