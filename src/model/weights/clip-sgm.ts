/**
 * Text-encoder names in single-file checkpoints -> transformers names.
 *  - CLIP ViT-L/14 (SD-1.5 `cond_stage_model.transformer.`, SDXL `conditioner.embedders.0.transformer.`)
 *    is a transformers CLIPTextModel already: strip the prefix (very old files lack `text_model.`).
 *  - OpenCLIP ViT-bigG/14 (SDXL `conditioner.embedders.1.model.`) uses open_clip's names; the rename
 *    follows diffusers convert_open_clip_checkpoint: resblocks -> encoder.layers, ln_1/ln_2 ->
 *    layer_norm1/2, mlp.c_fc/c_proj -> mlp.fc1/fc2, attn -> self_attn, the fused attn.in_proj_{weight,bias}
 *    [3C, C] split into q/k/v_proj, text_projection transposed (open_clip computes x @ P).
 */
import type { Component, WeightMapping } from './mapping';

export const CLIP_L_PREFIXES = ['conditioner.embedders.0.transformer.', 'cond_stage_model.transformer.'] as const;
export const OPENCLIP_G_PREFIX = 'conditioner.embedders.1.model.';

/** Buffers that are not parameters (transformers recomputes position_ids). */
const IGNORED = /(^|\.)position_ids$/;

/** Mappings for every CLIP-L tensor in `names` (component text_encoder). */
export function mapClipL(names: Iterable<string>, component: Component = 'text_encoder'): WeightMapping[] {
  const out: WeightMapping[] = [];
  for (const source of names) {
    const prefix = CLIP_L_PREFIXES.find((p) => source.startsWith(p));
    if (!prefix || IGNORED.test(source)) continue;
    let target = source.slice(prefix.length);
    if (/^(embeddings|encoder|final_layer_norm)\./.test(target)) target = `text_model.${target}`;
    out.push({ component, source, target });
  }
  return out;
}

const G_TOP: Record<string, string> = {
  'token_embedding.weight': 'text_model.embeddings.token_embedding.weight',
  positional_embedding: 'text_model.embeddings.position_embedding.weight',
  'ln_final.weight': 'text_model.final_layer_norm.weight',
  'ln_final.bias': 'text_model.final_layer_norm.bias',
};
const G_LAYER: Record<string, string> = {
  ln_1: 'layer_norm1',
  ln_2: 'layer_norm2',
  'mlp.c_fc': 'mlp.fc1',
  'mlp.c_proj': 'mlp.fc2',
  'attn.out_proj': 'self_attn.out_proj',
};

/** Mappings for every OpenCLIP-bigG text tensor in `names` (component text_encoder_2). */
export function mapOpenClipG(names: Iterable<string>, prefix = OPENCLIP_G_PREFIX, component: Component = 'text_encoder_2'): WeightMapping[] {
  const out: WeightMapping[] = [];
  for (const source of names) {
    if (!source.startsWith(prefix)) continue;
    const rest = source.slice(prefix.length);
    const top = G_TOP[rest];
    if (top) {
      out.push({ component, source, target: top });
      continue;
    }
    if (rest === 'text_projection') {
      out.push({ component, source, target: 'text_projection.weight', transform: { kind: 'transpose' } });
      continue;
    }
    const m = /^transformer\.resblocks\.(\d+)\.(.+)$/.exec(rest);
    if (!m) continue; // logit_scale and any vision tower: not part of the text encoder
    const layer = `text_model.encoder.layers.${m[1]}`;
    const inProj = /^attn\.in_proj_(weight|bias)$/.exec(m[2]!);
    if (inProj) {
      ['q_proj', 'k_proj', 'v_proj'].forEach((p, part) =>
        out.push({ component, source, target: `${layer}.self_attn.${p}.${inProj[1]}`, transform: { kind: 'rows', part, parts: 3 } }),
      );
      continue;
    }
    const pm = /^(.+)\.(weight|bias)$/.exec(m[2]!);
    const renamed = pm ? G_LAYER[pm[1]!] : undefined;
    if (pm && renamed) out.push({ component, source, target: `${layer}.${renamed}.${pm[2]}` });
  }
  return out;
}
