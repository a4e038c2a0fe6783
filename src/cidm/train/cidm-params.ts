/**
 * The trainable state of one CIDM task (spec §1.2–1.4, §9.1): a rank-r LoRA (down [r, in], up [out, r])
 * on every attn2 linear, and layer-wise concept tokens for P placeholder words in both embedding tables
 * ([L, P, hidden_k], row l·P + j = word j at cross-attention layer l). Two optimizer groups, each one
 * flat f32 buffer set (flat-params.ts): 'lora' and 'tokens'.
 *
 * Names follow the golden-training convention: `<attn2 module>.<proj>.lora_down.weight`,
 * `….lora_up.weight`, `token_embeds_1`, `token_embeds_2` (one per text encoder, in encoder order).
 */
import type { GpuContext } from '../../gpu/context';
import type { UNetArch } from '../../model/unet/arch';
import { BadRankError } from './errors';
import { FlatLayout, FlatParams, type TensorSpec } from './flat-params';
import { crossAttentionLayers, loraTargets, type LoraTarget } from './layers';

/** A rank above this is refused: CIDM uses 4; 128 is already 32× its parameters. */
export const MAX_RANK = 128;

export interface CidmShape {
  targets: LoraTarget[];
  /** Cross-attention layers L. */
  layers: number;
  placeholders: number;
  rank: number;
  /** Hidden width of each text encoder's token table. */
  hidden: readonly number[];
}

export const downName = (module: string) => `${module}.lora_down.weight`;
export const upName = (module: string) => `${module}.lora_up.weight`;
export const tokenName = (encoder: number) => `token_embeds_${encoder + 1}`;

export function cidmShape(arch: UNetArch, placeholders: number, rank: number, hidden: readonly number[]): CidmShape {
  if (!Number.isInteger(rank) || rank < 1 || rank > MAX_RANK) throw new BadRankError(rank, `it must be a whole number from 1 to ${MAX_RANK} (CIDM uses 4)`);
  if (!Number.isInteger(placeholders) || placeholders < 1) throw new RangeError(`a concept needs at least one placeholder word, got ${placeholders}`);
  const targets = loraTargets(arch);
  const layers = crossAttentionLayers(arch).length;
  if (!layers) throw new RangeError('this UNet has no cross-attention layer to learn a concept in');
  return { targets, layers, placeholders, rank, hidden };
}

export function loraSpecs(s: CidmShape): TensorSpec[] {
  return s.targets.flatMap((t) => [
    { name: downName(t.module), shape: [s.rank, t.inFeatures] },
    { name: upName(t.module), shape: [t.outFeatures, s.rank] },
  ]);
}

export function tokenSpecs(s: CidmShape): TensorSpec[] {
  return s.hidden.map((h, k) => ({ name: tokenName(k), shape: [s.layers, s.placeholders, h] }));
}

export interface CidmParams {
  shape: CidmShape;
  lora: FlatParams;
  tokens: FlatParams;
}

export function createCidmParams(ctx: GpuContext, s: CidmShape): CidmParams {
  return {
    shape: s,
    lora: FlatParams.create(ctx, 'cidm-lora', new FlatLayout(loraSpecs(s))),
    tokens: FlatParams.create(ctx, 'cidm-tokens', new FlatLayout(tokenSpecs(s))),
  };
}

export function destroyCidmParams(ctx: GpuContext, p: CidmParams): void {
  p.lora.destroy(ctx);
  p.tokens.destroy(ctx);
}
