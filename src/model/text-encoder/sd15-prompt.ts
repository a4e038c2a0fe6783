/**
 * The SD-1.5 family's prompt conditioning, as diffusers 0.25.1 StableDiffusionPipeline.encode_prompt
 * computes it with clip_skip None: prompt_embeds = text_encoder(ids)[0], i.e. last_hidden_state (the
 * final_layer_norm applied) of the one CLIP text encoder, [B, 77, hidden] (768 for SD-1.5). SD-1.5's
 * text_encoder config has no use_attention_mask, so no mask is passed (CLIP's causal mask only).
 * The UNet has no added embedding, so nothing pooled conditions it; the pooled output (transformers'
 * pooler_output, argmax pooling as 4.26) is returned only so the sampling loop, regions and EWA handle
 * one shape of conditioning for every family (it never reaches the UNet: forward.ts reads text_embeds
 * only when the arch has the addition embedding).
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import type { ClipTokenizer } from '../tokenizer/clip-bpe';
import { releaseTextEncoderOutput, textEncoderForward } from './forward';
import type { LoadedTextEncoder } from './load';

export interface Sd15PromptEmbeds {
  /** [B, 77, hidden]: the UNet's encoder_hidden_states. */
  embeds: Tensor;
  /** [B, hidden]: the unused pooler output (see the file comment). */
  pooled: Tensor;
}

/** ids: B × 77 token ids, row-major. */
export async function encodeSd15Prompt(ctx: GpuContext, te: LoadedTextEncoder, ids: ArrayLike<number>): Promise<Sd15PromptEmbeds> {
  const out = await textEncoderForward(ctx, te, ids, { final: true });
  const embeds = out.lastHiddenState!;
  const pooled = out.pooled!;
  out.lastHiddenState = null; // handed to the caller, not released below
  out.pooled = null;
  releaseTextEncoderOutput(ctx, out);
  return { embeds, pooled };
}

/** Token ids of prompts (each padded/truncated to 77), batch-major. */
export function tokenizeSd15Prompts(tok: ClipTokenizer, prompts: readonly string[]): number[] {
  return prompts.flatMap((p) => tok.tokenize77(p).ids);
}
