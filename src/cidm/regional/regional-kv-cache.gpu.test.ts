/**
 * Painted regions with the run's attn2 K/V cache (model/unet/cross-attention-kv-cache.ts) on the tiny
 * golden SDXL: a RegionalStep projects its stacked prompts' K/V on its first step only, a later step
 * served from the cache gives the same bits as a fresh step that projects them, and releasing the step
 * gives the pool back every cached tensor.
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { randomArray } from '../../../tests/numeric';
import { loadSdxlModel, type LoadedSdxlModel } from '../../engine/sdxl-model';
import { NodeModelFiles } from '../../model/node-model-files';
import type { UNetBackend } from '../../model/unet/backend';
import type { Tensor } from '../../gpu/tensor';
import { concat } from '../../ops/concat';
import { sdxlTimeIds } from '../../diffusion/sdxl-conditioning';
import type { TextToImageParams } from '../../diffusion/text-to-image';
import { crossAttentionLayers } from '../train/layers';
import { RegionalStep } from './regional-step';

let model: Promise<LoadedSdxlModel> | null = null;
async function tiny(): Promise<LoadedSdxlModel> {
  const ctx = await testContext();
  model ??= loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: ctx.hasF16 ? 'f16' : 'f32' });
  return model;
}

const [H, W] = [32, 48];
const BASE: TextToImageParams = { prompt: 'a photo of an astronaut riding a horse', negativePrompt: 'blurry', width: W, height: H, steps: 3, guidanceScale: 5, scheduler: 'euler', seed: 42 };
const maskOf = (f: (y: number, x: number) => number) => Float32Array.from({ length: H * W }, (_, i) => f(Math.floor(i / W), i % W));

describe(`regional attn2 K/V cache on ${TEST_ADAPTER}`, () => {
  it('projects K/V on the first step only; a cached step equals a fresh one bit for bit; release frees the cache', async () => {
    const { parts } = await tiny();
    const { ctx } = parts;
    const [neg, cond] = [await parts.encodePrompt('blurry'), await parts.encodePrompt(BASE.prompt)];
    const global = { ehs: await concat(ctx, [neg.embeds, cond.embeds], 0), pooled: await concat(ctx, [neg.pooled, cond.pooled], 0) };
    ctx.release(neg.embeds, neg.pooled, cond.embeds, cond.pooled);
    const regions = [
      { prompt: 'a red cube', negativePrompt: '', mask: maskOf((_, x) => (x < W / 2 ? 1 : 0)) },
      { prompt: 'a green ball', negativePrompt: 'dark', mask: maskOf((y) => (y < H / 3 ? 0.5 : 0)) },
    ];
    const layers = crossAttentionLayers(parts.unetArch);
    const kvWeights = new Set(layers.flatMap((l) => [parts.unet.weight(`${l}.to_k.weight`), parts.unet.weight(`${l}.to_v.weight`)]));
    let kvProjections = 0;
    const unet = Object.create(parts.unet) as UNetBackend<Tensor>;
    unet.linear = (x, w, b, residual) => {
      if (kvWeights.has(w)) kvProjections++;
      return parts.unet.linear(x, w, b, residual);
    };
    const ids = sdxlTimeIds(H, W);
    const inputs = [randomArray(4 * (H / 8) * (W / 8), 5), randomArray(4 * (H / 8) * (W / 8), 6)];
    const level = ctx.pool.stats.liveBytes;

    const run = await RegionalStep.create(parts, BASE, regions, global);
    await checked(ctx, 'regional step 0', () => run.predict(unet, parts.unetArch, inputs[0]!, 900, ids));
    const afterFirst = kvProjections;
    const cached = await checked(ctx, 'regional step 1', () => run.predict(unet, parts.unetArch, inputs[1]!, 400, ids));
    expect(afterFirst).toBe(2 * layers.length * run.forwards);
    expect(kvProjections).toBe(afterFirst);
    run.release();

    const fresh = await RegionalStep.create(parts, BASE, regions, global);
    const projected = await checked(ctx, 'fresh regional step', () => fresh.predict(unet, parts.unetArch, inputs[1]!, 400, ids));
    fresh.release();
    expect(kvProjections).toBe(2 * afterFirst);
    expect(Array.from(cached)).toEqual(Array.from(projected));
    expect(ctx.pool.stats.liveBytes).toBe(level);
    ctx.release(global.ehs, global.pooled);
  }, 300_000);
});
