/**
 * How many regional passes one UNet forward may batch. A regional step runs 2 + U passes (regional-step.ts);
 * batched into one forward, SDXL's largest activation at 1024² (the GEGLU projection, [B, 4096, 5120] f16,
 * 40 MiB per pass) passes the 128 MiB per-binding budget every backend must stay within (DESIGN,
 * "Testing") at B = 4. So the step splits its passes into forwards of at most this many, found by running
 * the real regional forward on the planning backend (the same code as the GPU) for one pass: every
 * activation is linear in the batch. Concept-aware regions add per-prompt queries [B, 1 + U, Tq, C] and
 * low-rank terms, planned the same way.
 */
import type { DType } from '../../gpu/tensor';
import type { UNetArch } from '../../model/unet/arch';
import { regionalMaskKey, unetForward, type ConceptRegionalInputs, type RegionalInputs } from '../../model/unet/forward';
import { crossAttentionLayers, loraTargets } from '../train/layers';
import { PlanBackend, type PlanTensor } from '../../model/unet/plan-backend';
import { unetWeightShapes } from '../../model/unet/weight-shapes';
import { attentionGrids } from './masks';

/** The binding budget the studio keeps on every backend (the WebGPU default maxStorageBufferBindingSize). */
export const BINDING_BUDGET_BYTES = 128 * 2 ** 20;

/** Concept-aware regions (forward.ts RegionalConcepts): R, the total rank of the library's packed LoRAs. */
export interface PlanConcepts {
  rank: number;
}

/** Bytes of the largest activation of one regional pass (batch 1) at this latent size. */
export async function largestActivationPerPass(arch: UNetArch, latentH: number, latentW: number, regions: number, dtype: DType, concepts?: PlanConcepts, tokens = 77): Promise<number> {
  const be = new PlanBackend(unetWeightShapes(arch), dtype, dtype);
  const sample = be.input([1, arch.inChannels, latentH, latentW], 'sample');
  const ehs = be.input([1, tokens, arch.crossDim], 'encoder_hidden_states');
  const textEmbeds = arch.addition ? be.input([1, arch.addition.projectionInputDim - 6 * arch.addition.timeEmbedDim], 'text_embeds') : undefined;
  const grids = attentionGrids(arch, latentH, latentW);
  const masks = new Map(grids.map((g) => [regionalMaskKey(g.h, g.w), be.input([1, regions, g.h * g.w], 'masks')] as const));
  const active = be.input([1, regions], 'active');
  let regional: RegionalInputs<PlanTensor> | ConceptRegionalInputs<PlanTensor>;
  if (!concepts) regional = { embeds: be.input([1, regions, tokens, arch.crossDim], 'region-embeds'), masks, active };
  else {
    // the per-run inputs are the same tensor for every layer here: only the shapes matter
    const P = regions + 1;
    const R = concepts.rank;
    const layers = crossAttentionLayers(arch).length;
    const prompts = be.input([P, tokens, arch.crossDim], 'region-prompts');
    const scales = be.input([P, 1, R], 'scales');
    const scalesT = be.input([R, P], 'scales-t');
    const adapters = new Map(loraTargets(arch).map((t) => [t.weight, { down: be.input([R, t.inFeatures], 'down'), up: be.input([t.outFeatures, R], 'up') }] as const));
    const coefficients = new Map(grids.map((g) => [regionalMaskKey(g.h, g.w), be.input([1, g.h * g.w, P], 'coefficients')] as const));
    const per = <T>(x: T) => Array<T>(layers).fill(x);
    regional = { masks, active, concepts: { negativePass: [false], negative: null, positive: per(prompts), scales: per(scales), scalesT: per(scalesT), coefficients, adapters } };
  }
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
export async function passesPerForward(arch: UNetArch, latentH: number, latentW: number, regions: number, dtype: DType, concepts?: PlanConcepts, budget = BINDING_BUDGET_BYTES): Promise<number> {
  const perPass = await largestActivationPerPass(arch, latentH, latentW, regions, dtype, concepts);
  return Math.max(1, Math.floor(budget / perPass));
}
