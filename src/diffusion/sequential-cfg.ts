/**
 * The low-memory way to run classifier-free guidance: the unconditional and the conditional UNet passes
 * one after another at batch 1 instead of together at batch 2, which halves every activation (the
 * peak of a step) at the cost of two dispatch sequences. The UNet treats batch elements independently,
 * so the prediction is the same as the batched one. Plugs into the loop as a GuidedPredictor; its GPU
 * form (the GPU loop's) copies the two outputs into one [2, C, h, w] buffer that the loop's own CFG reads.
 */
import type { Tensor } from '../gpu/tensor';
import { gatherPasses } from './gpu-passes';
import type { UNetArch } from '../model/unet/arch';
import type { UNetBackend } from '../model/unet/backend';
import { unetForward } from '../model/unet/forward';
import { CrossAttentionKvCache } from '../model/unet/cross-attention-kv-cache';
import { classifierFreeGuidance } from './sdxl-conditioning';
import type { GuidedPredictor, GuidedPredictorFactory, SdxlPipelineParts } from './text-to-image';

/** `latent`: the run's latent (h, w); `guidanceRescale`: φ after CFG (guidance-rescale.ts), 0 off. */
export function sequentialCfg(guidanceScale: number, latent: readonly [number, number], guidanceRescale = 0): GuidedPredictorFactory {
  return {
    needsUncond: true,
    async create(parts: SdxlPipelineParts, global: { ehs: Tensor; pooled: Tensor }): Promise<GuidedPredictor> {
      const { ctx } = parts;
      const [, T, C] = global.ehs.shape as [number, number, number];
      const P = global.pooled.shape[1]!;
      const ehs = await ctx.read(global.ehs);
      const pooled = await ctx.read(global.pooled);
      // [uncond, cond] halves as their own tensors (a view at an offset would break binding alignment)
      const halves = [0, 1].map((b) => ({
        ehs: ctx.upload(ehs.subarray(b * T * C, (b + 1) * T * C), [1, T, C], global.ehs.dtype, `cfg-half-${b}-ehs`),
        pooled: ctx.upload(pooled.subarray(b * P, (b + 1) * P), [1, P], global.pooled.dtype, `cfg-half-${b}-pooled`),
      }));
      // attn2 K/V for the whole run, keyed by context: each half's text states get their own entries
      const kvCache = new CrossAttentionKvCache<Tensor>((...t) => ctx.release(...t));
      return {
        batch: 2,
        async predict(unet: UNetBackend<Tensor>, arch: UNetArch, input: Float32Array, t: number, timeIds: readonly number[], signal?: AbortSignal): Promise<Float32Array> {
          const out = new Float32Array(2 * input.length);
          for (const [b, half] of halves.entries()) {
            const sample = ctx.upload(input, [1, arch.inChannels, latent[0], latent[1]], parts.dtype, 'unet-sample');
            try {
              const pred = await unetForward(unet, arch, { sample, timesteps: [t], encoderHiddenStates: half.ehs, textEmbeds: half.pooled, timeIds: [...timeIds], signal, crossAttentionKv: kvCache });
              out.set(await ctx.read(pred), b * input.length);
              ctx.release(pred);
            } finally {
              ctx.release(sample); // also after a cancel between blocks (the forward gave back its own activations)
            }
          }
          return out;
        },
        combine: (pred) => classifierFreeGuidance(pred, guidanceScale, guidanceRescale),
        // the GPU loop's form: both passes write into one [2, C, h, w] buffer, the loop's CFG reads it
        onGpu: {
          predict: (unet, arch, sample, t, timeIds, signal) =>
            gatherPasses(ctx, sample, halves.map(() => ({ rows: 1 })), (b, input) => {
              const half = halves[b]!;
              return unetForward(unet, arch, { sample: input, timesteps: [t], encoderHiddenStates: half.ehs, textEmbeds: half.pooled, timeIds: [...timeIds], signal, crossAttentionKv: kvCache });
            }, 'cfg-pred'),
        },
        release: () => {
          kvCache.release();
          for (const h of halves) ctx.release(h.ehs, h.pooled);
        },
      };
    },
  };
}
