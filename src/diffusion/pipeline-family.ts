/**
 * Which Stable Diffusion pipeline a model runs, decided from its configs only (never from a repo or
 * file name), so every model of a family goes through the same loop (text-to-image.ts), regions and
 * concepts:
 *  - 'sdxl': StableDiffusionXLPipeline (diffusers 0.25.1): two text encoders (hidden_states[-2] of
 *    both, concatenated; the second's text_embeds pooled), a UNet with addition_embed_type 'text_time'
 *    (pooled + micro-conditioning time ids), an absent negative prompt zeroed when model_index.json's
 *    force_zeros_for_empty_prompt says so (the pipeline's default: true).
 *  - 'sd15': StableDiffusionPipeline (SD-1.x/2.x and their fine-tunes): one text encoder whose
 *    last_hidden_state is the UNet's context, a UNet without the added embedding, and an absent negative
 *    prompt encoded as the empty string (encode_prompt: uncond_tokens = [""]; the pipeline has no
 *    force_zeros option).
 * Evidence: the UNet's addition_embed_type and the number of text encoders (model_index.json's
 * text_encoder_2 entry, or the encoders a single file holds); model_index.json's _class_name, where
 * there is one, must agree. Anything else is refused with the reason.
 */
import { ModelFileError } from '../model/errors';

export type PipelineFamily = 'sdxl' | 'sd15';

export interface FamilyEvidence {
  /** The file the refusal names (model_index.json, or the checkpoint). */
  readonly file: string;
  /** The parsed UNet config's addition_embed_type (null: none). */
  readonly additionEmbedType: string | null;
  /** Text encoders the model has. */
  readonly textEncoders: number;
  /** model_index.json `_class_name` (absent for a single file). */
  readonly className?: string;
}

/** The diffusers pipeline class each family is (what _class_name must say when present). */
const CLASS_OF: Record<PipelineFamily, string> = { sdxl: 'StableDiffusionXLPipeline', sd15: 'StableDiffusionPipeline' };

export function pipelineFamilyOf(e: FamilyEvidence): PipelineFamily {
  let family: PipelineFamily;
  if (e.additionEmbedType === 'text_time' && e.textEncoders === 2) family = 'sdxl';
  else if (e.additionEmbedType === null && e.textEncoders === 1) family = 'sd15';
  else {
    const unet = e.additionEmbedType === null ? 'a UNet without an added embedding' : `a UNet with addition_embed_type "${e.additionEmbedType}"`;
    throw new ModelFileError('wrong-model', e.file, `${unet} and ${e.textEncoders} text encoder(s) is no pipeline the studio runs (SDXL: "text_time" with two encoders; SD-1.5 family: none with one)`);
  }
  if (e.className !== undefined && e.className !== CLASS_OF[family]) {
    throw new ModelFileError('wrong-model', e.file, `the pipeline is a ${e.className}, but its UNet and text encoders make a ${CLASS_OF[family]}; the studio runs text-to-image ${Object.values(CLASS_OF).join(' and ')} models`, '_class_name');
  }
  return family;
}

/**
 * Whether an absent negative prompt is all zeros: SDXL's force_zeros_for_empty_prompt (model_index.json,
 * default true); the SD-1.5 family always encodes "" (StableDiffusionPipeline.encode_prompt).
 */
export function forceZerosForEmptyPrompt(family: PipelineFamily, flag: boolean | undefined): boolean {
  return family === 'sdxl' ? (flag ?? true) : false;
}
