/**
 * How many regional passes one UNet forward may batch. A regional step runs 2 + U passes (regional-step.ts);
 * batched into one forward, SDXL's largest activation at 1024² (the GEGLU projection, [B, 4096, 5120] f16,
 * 40 MiB per pass) passes the 128 MiB per-binding budget every backend must stay within (DESIGN,
 * "Testing") at B = 4. So the step splits its passes into forwards of at most this many, found by running
 * the real regional forward on the planning backend (the same code as the GPU) for one pass: every
 * activation is linear in the batch.
 */
import type { DType } from '../../gpu/tensor';
import type { UNetArch } from '../../model/unet/arch';
import { regionalMaskKey, unetForward, type RegionalInputs } from '../../model/unet/forward';
import { PlanBackend, type PlanTensor } from '../../model/unet/plan-backend';
import { unetWeightShapes } from '../../model/unet/weight-shapes';
import { attentionGrids } from './masks';

/** The binding budget the studio keeps on every backend (the WebGPU default maxStorageBufferBindingSize). */
export const BINDING_BUDGET_BYTES = 128 * 2 ** 20;

/** Bytes of the largest activation of one regional pass (batch 1) at this latent size. */
export async function largestActivationPerPass(arch: UNetArch, latentH: number, latentW: number, regions: number, dtype: DType, tokens = 77): Promise<number> {
  const be = new PlanBackend(unetWeightShapes(arch), dtype, dtype);
  const sample = be.input([1, arch.inChannels, latentH, latentW], 'sample');
  const ehs = be.input([1, tokens, arch.crossDim], 'encoder_hidden_states');
  const textEmbeds = arch.addition ? be.input([1, arch.addition.projectionInputDim - 6 * arch.addition.timeEmbedDim], 'text_embeds') : undefined;
  const masks = new Map(attentionGrids(arch, latentH, latentW).map((g) => [regionalMaskKey(g.h, g.w), be.input([1, regions, g.h * g.w], 'masks')] as const));
  const regional: RegionalInputs<PlanTensor> = { embeds: be.input([1, regions, tokens, arch.crossDim], 'region-embeds'), masks, active: be.input([1, regions], 'active') };
  const out = await unetForward(be, arch, {
    sample,
    timesteps: [999],
    encoderHiddenStates: ehs,
    ...(textEmbeds ? { textEmbeds, timeIds: Array(6).fill(1024) } : {}),
    regional,
  });
  be.release(out);
  return be.stats.largestActivation.bytes;
}

/** The most passes per forward whose largest activation stays within `budget` bytes (at least 1). */
export async function passesPerForward(arch: UNetArch, latentH: number, latentW: number, regions: number, dtype: DType, budget = BINDING_BUDGET_BYTES): Promise<number> {
  const perPass = await largestActivationPerPass(arch, latentH, latentW, regions, dtype);
  return Math.max(1, Math.floor(budget / perPass));
}
