/**
 * The attn2 K/V cache (model/unet/cross-attention-kv-cache.ts) on the tiny golden SDXL:
 *   - several UNet steps (new latents and timestep each) with and without the cache give the same bits,
 *     and the K/V projections run on the first step only (counted on the backend, not by the cache);
 *   - every sampling path that owns a cache (GPU loop, host loop, low-memory CFG) projects K/V once per
 *     context and gives the pool back to its level when the run ends, is cancelled or fails.
 */
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import type { Tensor } from '../gpu/tensor';
import { loadSdxlModel, type LoadedSdxlModel } from '../engine/sdxl-model';
import { NodeModelFiles } from '../model/node-model-files';
import type { UNetBackend } from '../model/unet/backend';
import { CrossAttentionKvCache } from '../model/unet/cross-attention-kv-cache';
import { unetForward } from '../model/unet/forward';
import { unetWeightShapes } from '../model/unet/weight-shapes';
import type { SdxlPipelineParts, TextToImageParams } from './text-to-image';
import { textToImage } from './text-to-image';

let model: Promise<LoadedSdxlModel> | null = null;
async function tiny(): Promise<LoadedSdxlModel> {
  const ctx = await testContext();
  model ??= loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: ctx.hasF16 ? 'f16' : 'f32' });
  return model;
}

/** The attn2 to_k/to_v weight names of the model's config. */
function kvWeightNames(parts: SdxlPipelineParts): string[] {
  return [...unetWeightShapes(parts.unetArch).keys()].filter((n) => /\.attn2\.to_[kv]\.weight$/.test(n));
}

/** The model's UNet backend, counting the linears that multiply by an attn2 to_k/to_v weight. */
function countingUnet(parts: SdxlPipelineParts): { unet: UNetBackend<Tensor>; kvProjections: () => number } {
  const base = parts.unet;
  const kv = new Set(kvWeightNames(parts).map((n) => base.weight(n)));
  let n = 0;
  const unet = Object.create(base) as UNetBackend<Tensor>;
  unet.linear = (x, w, b, residual) => {
    if (kv.has(w)) n++;
    return base.linear(x, w, b, residual);
  };
  return { unet, kvProjections: () => n };
}

/** Deterministic values in [-1, 1) (a 32-bit LCG). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1);
}

function firstDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

const base: TextToImageParams = { prompt: 'a red cube', negativePrompt: 'blurry', width: 40, height: 56, steps: 3, guidanceScale: 5, scheduler: 'euler', seed: 11 };

describe(`attn2 K/V cache on the tiny SDXL (${TEST_ADAPTER})`, () => {
  it('four UNet steps give the same bits with and without the cache; K/V projected on the first step only', async () => {
    const m = await tiny();
    const { ctx, unetArch: arch } = m.parts;
    const counted = countingUnet(m.parts);
    const layers = kvWeightNames(m.parts).length / 2;
    expect(layers).toBeGreaterThan(0);
    const crossDim = m.parts.unet.weight(kvWeightNames(m.parts)[0]!).shape[1]!;
    const pooledDim = arch.addition!.projectionInputDim - 6 * arch.addition!.timeEmbedDim;
    const [B, h, w] = [2, 7, 5];
    const ehs = ctx.upload(values(B * 77 * crossDim, 1), [B, 77, crossDim], m.parts.dtype, 'test-ehs');
    const pooled = ctx.upload(values(B * pooledDim, 2), [B, pooledDim], m.parts.dtype, 'test-pooled');
    const level = ctx.pool.stats.liveBytes;
    const cache = new CrossAttentionKvCache<Tensor>((...t) => ctx.release(...t));
    const timesteps = [999, 761, 500, 13];
    try {
      for (const [s, t] of timesteps.entries()) {
        const sample = ctx.upload(values(B * arch.inChannels * h * w, 10 + s), [B, arch.inChannels, h, w], m.parts.dtype, 'test-sample');
        const step = { sample, timesteps: [t, t], encoderHiddenStates: ehs, textEmbeds: pooled, timeIds: [56, 40, 0, 0, 56, 40, 56, 40, 0, 0, 56, 40] };
        const plainOut = await unetForward(m.parts.unet, arch, step);
        const plain = await ctx.read(plainOut);
        const cachedOut = await unetForward(counted.unet, arch, { ...step, crossAttentionKv: cache });
        const cached = await ctx.read(cachedOut);
        ctx.release(plainOut, cachedOut, sample);
        expect(firstDifference(cached, plain), `step ${s}: first differing value`).toBe(-1);
        expect(counted.kvProjections(), `K/V projections after step ${s}`).toBe(2 * layers);
        expect(cache.hits).toBe(s * layers);
      }
      console.log(`[kv-cache ${TEST_ADAPTER}] ${timesteps.length} steps bit-identical; ${counted.kvProjections()} K/V projections for ${layers} attn2 layers, ${cache.bytes} bytes cached`);
      // the cached K/V stay leased between steps (in pool size classes, so at least their bytes)
      expect(ctx.pool.stats.liveBytes).toBeGreaterThanOrEqual(level + cache.bytes);
    } finally {
      cache.release();
    }
    expect(ctx.pool.stats.liveBytes).toBe(level);
    ctx.release(ehs, pooled);
  }, 300_000);

  // the GPU loop, the host loop and low-memory CFG (its two halves are two contexts: two entries per layer)
  const paths: { name: string; params: TextToImageParams; hostLoop: boolean; contexts: number }[] = [
    { name: 'GPU loop', params: base, hostLoop: false, contexts: 1 },
    { name: 'host loop', params: base, hostLoop: true, contexts: 1 },
    { name: 'low-memory CFG', params: { ...base, lowMemory: true }, hostLoop: false, contexts: 2 },
  ];
  for (const path of paths)
    it(`${path.name}: K/V projected once per context; the pool back to its level after a run, a cancel and an error`, async () => {
      const m = await tiny();
      const { ctx } = m.parts;
      const layers = kvWeightNames(m.parts).length / 2;
      const level = ctx.pool.stats.liveBytes;

      const full = countingUnet(m.parts);
      await textToImage({ ...m.parts, unet: full.unet }, path.params, { hostLoop: path.hostLoop, previewEvery: 0 });
      expect(full.kvProjections()).toBe(2 * layers * path.contexts);
      expect(ctx.pool.stats.liveBytes).toBe(level);

      // cancelled after the second step (the cache is full by then)
      const cancelled = countingUnet(m.parts);
      const ac = new AbortController();
      const run = textToImage({ ...m.parts, unet: cancelled.unet }, path.params, {
        hostLoop: path.hostLoop,
        previewEvery: 0,
        signal: ac.signal,
        onProgress: (p) => void (p.status === 'step' && p.step === 1 && ac.abort()),
      });
      await expect(run).rejects.toThrow(/abort/i);
      expect(cancelled.kvProjections()).toBe(2 * layers * path.contexts);
      expect(ctx.pool.stats.liveBytes).toBe(level);

      // an error after the second step's UNet (the observer throws)
      const failing = countingUnet(m.parts);
      const fail = textToImage({ ...m.parts, unet: failing.unet }, path.params, {
        hostLoop: path.hostLoop,
        previewEvery: 0,
        observer: {
          step: (r) => {
            if (r.step === 1) throw new Error('observer failed at step 1');
          },
        },
      });
      await expect(fail).rejects.toThrow('observer failed at step 1');
      expect(failing.kvProjections()).toBe(2 * layers * path.contexts);
      expect(ctx.pool.stats.liveBytes).toBe(level);
    }, 300_000);
});
