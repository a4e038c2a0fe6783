/**
 * Memory plan of one UNet step: runs the real forward (forward.ts) on the planning backend and adds
 * the resident weights. "All in" = weight buffers + the activation pool's footprint (size classes and
 * reuse as BufferPool does them) + the step's inputs. No weights are needed: shapes come from config.
 * With crossAttentionCache it is a later step of a sampling run, beside the run's attn2 K/V cache.
 */
import { unetArch, type UNetConfigJson } from './arch';
import { unetForward } from './forward';
import { PlanBackend, type PlanTensor } from './plan-backend';
import { CrossAttentionKvCache } from './cross-attention-kv-cache';
import { unetWeightShapes } from './weight-shapes';
import { BYTES_PER_ELEMENT, numel, type DType } from '../../gpu/tensor';
import { weightStorageDtype } from '../weights/storage-dtype';

export interface MemoryPlanOptions {
  /** Image side in pixels (the latent is 1/latentFactor). */
  height: number;
  width: number;
  /** 2 for classifier-free guidance (cond + uncond in one batch). */
  batch: number;
  weightDtype: DType;
  activationDtype: DType;
  /**
   * A device without shader-f16: the matrices and conv kernels are packed f16 and the vectors are in
   * the activation dtype (f32), as the loaders store them (model/weights/storage-dtype.ts).
   */
  packedWeights?: boolean;
  /** Image pixels per latent pixel, from the VAE config (default 8, SD/SDXL). */
  latentFactor?: number;
  /** Text tokens per prompt. */
  tokens?: number;
  /**
   * Plan a steady-state step of a sampling run: the attn2 K/V cache (cross-attention-kv-cache.ts) is
   * filled by a first step and stays live through the second, so the peak and the pool include it.
   */
  crossAttentionCache?: boolean;
}

export interface MemoryPlan {
  weightBytes: number;
  weightTensors: number;
  largestWeight: { name: string; bytes: number };
  activationPeakBytes: number;
  activationPoolBytes: number;
  largestActivation: { label: string; bytes: number; shape: number[] };
  peakBytes: number;
  largestBindingBytes: number;
  /** With crossAttentionCache: the bytes of the cached K/V (every attn2 layer's), live through the run. */
  kvCacheBytes: number;
}

export async function planUNetStep(config: UNetConfigJson, o: MemoryPlanOptions): Promise<MemoryPlan> {
  const arch = unetArch(config);
  const shapes = unetWeightShapes(arch);
  let weightBytes = 0;
  let largestWeight = { name: '', bytes: 0 };
  const storage = (shape: readonly number[]) => (o.packedWeights ? weightStorageDtype(shape, o.activationDtype, true) : o.weightDtype);
  for (const [name, shape] of shapes) {
    const bytes = Math.ceil((numel(shape) * BYTES_PER_ELEMENT[storage(shape)]) / 4) * 4;
    weightBytes += bytes;
    if (bytes > largestWeight.bytes) largestWeight = { name, bytes };
  }
  const be = new PlanBackend(shapes, o.activationDtype, o.packedWeights ? 'f16' : o.weightDtype);
  const h = o.height / (o.latentFactor ?? 8);
  const w = o.width / (o.latentFactor ?? 8);
  const tokens = o.tokens ?? 77;
  const sample = be.input([o.batch, arch.inChannels, h, w], 'sample');
  const ctx = be.input([o.batch, tokens, arch.crossDim], 'encoder_hidden_states');
  const textEmbeds = arch.addition
    ? be.input([o.batch, arch.addition.projectionInputDim - 6 * arch.addition.timeEmbedDim], 'text_embeds')
    : undefined;
  const cache = o.crossAttentionCache ? new CrossAttentionKvCache<PlanTensor>((...t) => be.release(...t)) : undefined;
  const step = () =>
    unetForward(be, arch, {
      sample,
      timesteps: Array(o.batch).fill(999),
      encoderHiddenStates: ctx,
      ...(textEmbeds ? { textEmbeds, timeIds: Array(o.batch * 6).fill(1024) } : {}),
      ...(cache ? { crossAttentionKv: cache } : {}),
    });
  // with the cache, the first step fills it and the second (the steady state) runs beside it
  if (cache) be.release(await step());
  const out = await step();
  const kvCacheBytes = cache?.bytes ?? 0;
  cache?.release();
  be.release(out, sample, ctx, ...(textEmbeds ? [textEmbeds] : []));
  if (be.liveTensors !== 0) throw new Error(`memory plan: the forward leaked ${be.liveTensors} tensors`);
  const s = be.stats;
  return {
    weightBytes,
    weightTensors: shapes.size,
    largestWeight,
    activationPeakBytes: s.peakActivationBytes,
    activationPoolBytes: s.poolBytes,
    largestActivation: s.largestActivation,
    peakBytes: weightBytes + s.poolBytes,
    largestBindingBytes: Math.max(largestWeight.bytes, s.largestActivation.bytes),
    kvCacheBytes,
  };
}
