/**
 * Where CIDM's trainable tensors go (spec §1.3–1.4, §7): every cross-attention (attn2) layer in the
 * traversal order down_blocks → mid_block → up_blocks (the order of CIDM / Mix-of-Show's
 * revise_edlora_unet_attention_forward, which layer-wise token l belongs to), and on each its to_q,
 * to_k, to_v and to_out.0 linears. Derived from the UNet's architecture, so SD-1.5 (16 layers), SDXL
 * base (70) and any other config work unchanged.
 */
import type { TransformerArch, UNetArch } from '../../model/unet/arch';

export const LORA_PROJECTIONS = ['to_q', 'to_k', 'to_v', 'to_out.0'] as const;

export interface LoraTarget {
  /** e.g. down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_q */
  module: string;
  /** The frozen weight it adapts ([out, in]). */
  weight: string;
  inFeatures: number;
  outFeatures: number;
  /** Cross-attention layer index l. */
  layer: number;
}

function transformersInOrder(arch: UNetArch): TransformerArch[] {
  return [...arch.down.flatMap((b) => b.attentions), ...(arch.mid.attention ? [arch.mid.attention] : []), ...arch.up.flatMap((b) => b.attentions)];
}

/** attn2 module names, index = layer l. */
export function crossAttentionLayers(arch: UNetArch): string[] {
  return transformersInOrder(arch).flatMap((t) => Array.from({ length: t.depth }, (_, d) => `${t.prefix}.transformer_blocks.${d}.attn2`));
}

/** Every LoRA'd linear, layer by layer, q/k/v/out within a layer (the order of the golden's init). */
export function loraTargets(arch: UNetArch): LoraTarget[] {
  const out: LoraTarget[] = [];
  let layer = 0;
  for (const t of transformersInOrder(arch)) {
    for (let d = 0; d < t.depth; d++, layer++) {
      const attn2 = `${t.prefix}.transformer_blocks.${d}.attn2`;
      for (const p of LORA_PROJECTIONS) {
        const kv = p === 'to_k' || p === 'to_v';
        out.push({ module: `${attn2}.${p}`, weight: `${attn2}.${p}.weight`, inFeatures: kv ? t.crossDim : t.channels, outFeatures: t.channels, layer });
      }
    }
  }
  return out;
}

/**
 * Layer-wise prompts (spec §1.4): the prompt's ids with placeholder j written as id `vocabStart + j`;
 * copy l gets `vocabStart + l·P + j` instead, i.e. row l·P + j of the learned table [L, P, hidden].
 * Returns L sequences back to back.
 */
export function layerwiseIds(ids: readonly number[], vocabStart: number, placeholders: number, layers: number): number[] {
  const out: number[] = [];
  for (let l = 0; l < layers; l++) {
    for (const id of ids) {
      const j = id - vocabStart;
      if (j >= 0 && j < placeholders) out.push(vocabStart + l * placeholders + j);
      else if (id >= vocabStart) throw new RangeError(`layer-wise prompt: id ${id} is past the ${placeholders} placeholders at ${vocabStart}`);
      else out.push(id);
    }
  }
  return out;
}
