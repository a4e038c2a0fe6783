/**
 * A concept in the formats other SDXL tools load (A1111/Forge, ComfyUI, kohya sd-scripts), which know
 * neither layer-wise tokens nor EWA. Use the two files together: the embedding gives the prompt word,
 * the LoRA the adapted cross-attention.
 *
 *  - A kohya LoRA of the concept's attn2 LoRA. Names are kohya's SDXL ones, the SGM module path with
 *    '_' for '.' (lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_q.lora_down.weight, …
 *    to_out_0 …), what src/model/lora/keys.ts reads back; `.alpha` = rank so the tools' alpha/rank
 *    scale is 1.
 *  - An embedding: `clip_l` [P, 768] and `clip_g` [P, 1280] (the A1111/ComfyUI SDXL convention; one
 *    text encoder gives the single-tensor `emb_params` [P, h] of SD-1.5 embeddings). The tools insert
 *    the P vectors, in order, where the file's name appears in a prompt.
 */
import type { Concept } from '../../cidm/concepts/concept';
import type { UNetConfig } from '../../model/config';
import { encodeSafetensors, type TensorToWrite } from '../../model/safetensors/writer';
import { diffusersToSgmUNetName } from '../../model/weights/unet-sgm';

/**
 * CIDM's LoRA strength at generation (spec §3.2: s_lora = 0.8, inference.py:229): the engine applies
 * W0 + 0.8 · Σ_i w_i^l · U_i D_i, where w^l are the EWA weights. A concept exported alone has one task,
 * so EWA's L1-normalised weights are w = 1 at every layer and its strength is 1 · 0.8; the export folds
 * that 0.8 into the up matrices, so at the tools' default strength 1 the LoRA acts as it does in the
 * studio. (With several concepts loaded in another tool the layer-wise EWA weighting is lost: each
 * LoRA is simply added at its own strength.)
 */
export const CIDM_INFERENCE_LORA_SCALE = 0.8;

/** kohya's SDXL name of a UNet module: `lora_unet_` + its SGM (input_blocks/…) path with '_' for '.'. */
export function kohyaUNetModuleName(module: string, unet: UNetConfig): string {
  const sgm = diffusersToSgmUNetName(`${module}.weight`, unet).slice(0, -'.weight'.length);
  return `lora_unet_${sgm.replace(/\./g, '_')}`;
}

export interface KohyaExportOptions {
  /** Folded into the up matrices (default CIDM_INFERENCE_LORA_SCALE). */
  scale?: number;
}

/** The concept's LoRA as a kohya .safetensors file for the UNet described by `unet` (the model the concept was trained on). */
export function exportKohyaLora(c: Concept, unet: UNetConfig, o: KohyaExportOptions = {}): Uint8Array<ArrayBuffer> {
  const scale = o.scale ?? CIDM_INFERENCE_LORA_SCALE;
  const tensors: TensorToWrite[] = [];
  for (const [module, l] of c.lora) {
    const key = kohyaUNetModuleName(module, unet);
    tensors.push({ name: `${key}.lora_down.weight`, dtype: 'F32', shape: [c.rank, l.inFeatures], data: l.down });
    tensors.push({ name: `${key}.lora_up.weight`, dtype: 'F32', shape: [l.outFeatures, c.rank], data: l.up.map((v) => v * scale) });
    // A 0-d F32 tensor, as real kohya files store alpha.
    tensors.push({ name: `${key}.alpha`, dtype: 'F32', shape: [], data: new Float32Array([c.rank]) });
  }
  return encodeSafetensors(tensors, {
    ss_network_module: 'networks.lora',
    ss_network_dim: String(c.rank),
    ss_network_alpha: String(c.rank),
    ss_output_name: c.name,
    cidm_concept: c.name,
    cidm_placeholders: JSON.stringify(c.placeholders),
    cidm_model_id: c.modelId,
    cidm_lora_scale_folded: String(scale),
  });
}

/**
 * The mean over layers of a layer-wise token table [L, P, h] → [P, h] (f64 sums). CIDM learns one
 * vector per cross-attention layer; tools with a single prompt embedding for every layer get their
 * average.
 */
export function layerMeanTokens(table: Float32Array, layers: number, placeholders: number, width: number): Float32Array<ArrayBuffer> {
  if (table.length !== layers * placeholders * width) throw new RangeError(`token table has ${table.length} values, [${layers}, ${placeholders}, ${width}] needs ${layers * placeholders * width}`);
  const out = new Float32Array(placeholders * width);
  const row = placeholders * width;
  for (let i = 0; i < row; i++) {
    let s = 0;
    for (let l = 0; l < layers; l++) s += table[l * row + i]!;
    out[i] = s / layers;
  }
  return out;
}

/** Embedding tensor names by text-encoder count (model order: CLIP ViT-L first, OpenCLIP bigG second). */
const EMBEDDING_NAMES: Record<number, readonly string[]> = { 1: ['emb_params'], 2: ['clip_l', 'clip_g'] };

/** The concept's placeholder vectors, averaged over layers, as an A1111/ComfyUI embedding file. */
export function exportEmbedding(c: Concept): Uint8Array<ArrayBuffer> {
  const names = EMBEDDING_NAMES[c.tokens.length];
  if (!names) throw new RangeError(`an embedding file holds one or two text encoders' vectors; concept ${c.name} has ${c.tokens.length}`);
  const P = c.placeholders.length;
  const tensors: TensorToWrite[] = c.tokens.map((t, k) => ({
    name: names[k]!,
    dtype: 'F32',
    shape: [P, c.tokenWidths[k]!],
    data: layerMeanTokens(t, c.layers, P, c.tokenWidths[k]!),
  }));
  return encodeSafetensors(tensors, { cidm_concept: c.name, cidm_placeholders: JSON.stringify(c.placeholders), cidm_model_id: c.modelId, cidm_layer_reduction: 'mean' });
}
