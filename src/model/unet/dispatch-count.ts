/**
 * How many compute dispatches one UNet step makes (issue "speed", point 3: fewer, fatter dispatches are
 * the way to a fast step on a real GPU, where each launch costs a few microseconds of idle GPU). The
 * real forward (forward.ts on GpuUNetBackend, the same code a generation runs) over the planning
 * device, which counts dispatches and holds no data: any size, no GPU, well under a second.
 */
import { GpuContext } from '../../gpu/context';
import { PlanningDevice, planningHandle } from '../../gpu/planning-device';
import type { DType, Tensor } from '../../gpu/tensor';
import type { UNetConfigJson } from './arch';
import { runSyntheticStepOn, syntheticStepInputs, type SyntheticStepSize } from './synthetic-step';
import { CrossAttentionKvCache } from './cross-attention-kv-cache';
import { GpuUNetBackend } from './gpu-backend';
import { sizedUNet } from './sized-unet';

export interface DispatchCountOptions extends SyntheticStepSize {
  dtype: DType;
  /** Packed f16 matrices under f32 compute (a device without shader-f16), as loadUNet stores them. */
  packWeights?: boolean;
  /** Each attn1's q/k/v as one matmul, as loadUNet lays them out (fused-qkv.ts); default true. */
  fuseQkv?: boolean;
  /**
   * Count a steady-state step of a sampling run: the attn2 K/V cache (cross-attention-kv-cache.ts) is
   * filled by a first step on the same inputs, and the second step is counted.
   */
  crossAttentionCache?: boolean;
}

export interface DispatchCount {
  total: number;
  byKernel: Map<string, number>;
  /** With crossAttentionCache: the bytes the cache holds through the run (every attn2's K and V). */
  kvCacheBytes: number;
}

export async function countUNetStepDispatches(config: UNetConfigJson, o: DispatchCountOptions): Promise<number> {
  return (await unetStepDispatches(config, o)).total;
}

/** The count and its split by kernel name. */
export async function unetStepDispatches(config: UNetConfigJson, o: DispatchCountOptions): Promise<DispatchCount> {
  const dev = new PlanningDevice();
  const ctx = new GpuContext(planningHandle(dev));
  try {
    const unet = sizedUNet(ctx, config, o.dtype, o.packWeights ?? false, { fuseQkv: o.fuseQkv ?? true });
    const zeros = (shape: number[], label: string) => ctx.upload(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, o.dtype, label);
    const be = new GpuUNetBackend(ctx, unet.weights, o.dtype, 'unet (planning)');
    const inputs = syntheticStepInputs(unet.arch, o, zeros);
    const cache = o.crossAttentionCache ? new CrossAttentionKvCache<Tensor>((...t) => ctx.release(...t)) : undefined;
    try {
      if (cache) {
        ctx.release(await runSyntheticStepOn(be, unet.arch, o, inputs, cache));
        await ctx.flush();
      }
      const before = dev.dispatches;
      dev.dispatchesByKernel.clear();
      const out = await runSyntheticStepOn(be, unet.arch, o, inputs, cache);
      await ctx.flush();
      const count = dev.dispatches - before;
      ctx.release(out);
      return { total: count, byKernel: new Map(dev.dispatchesByKernel), kvCacheBytes: cache?.bytes ?? 0 };
    } finally {
      cache?.release();
      ctx.releaseLive(...inputs.all);
    }
  } finally {
    ctx.destroy();
  }
}
