/**
 * SDXL's prompt conditioning, as diffusers 0.25.1 StableDiffusionXLPipeline.encode_prompt (clip_skip
 * None) computes it:
 *   prompt_embeds        = cat(te1.hidden_states[-2], te2.hidden_states[-2], dim=-1)   [B, 77, h1 + h2]
 *                          (the penultimate layer's output, NO final_layer_norm)
 *   pooled_prompt_embeds = te2.text_embeds                                            [B, projection_dim]
 * te1's pooled output is unused, so te1 stops after its penultimate layer (its last layer and final
 * norm are skipped); te2 runs every layer because text_embeds pools its final_layer_norm output.
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { concat } from '../../ops/concat';
import type { ClipTokenizer } from '../tokenizer/clip-bpe';
import { releaseTextEncoderOutput, textEncoderForward, type Pooling } from './forward';
import type { LoadedTextEncoder } from './load';

export interface SdxlPromptEmbeds {
  /** [B, 77, hidden1 + hidden2] (2048 for SDXL): the UNet's encoder_hidden_states. */
  embeds: Tensor;
  /** [B, projection_dim] (1280 for SDXL): the UNet's text_embeds. */
  pooled: Tensor;
}

export interface SdxlPromptOptions {
  /** Learned concept-token rows for ids ≥ vocab_size, per encoder ([K, hidden1] and [K, hidden2]). */
  extraEmbeddings1?: Tensor;
  extraEmbeddings2?: Tensor;
  /** te2 pooling; default 'argmax' (transformers 4.26). */
  pooling?: Pooling;
}

/** ids1 / ids2: B × 77 token ids of tokenizer and tokenizer_2, row-major. */
export async function encodeSdxlPrompt(
  ctx: GpuContext,
  te1: LoadedTextEncoder,
  te2: LoadedTextEncoder,
  ids1: ArrayLike<number>,
  ids2: ArrayLike<number>,
  o: SdxlPromptOptions = {},
): Promise<SdxlPromptEmbeds> {
  if (ids1.length !== ids2.length) throw new RangeError(`encodeSdxlPrompt: ${ids1.length} ids for te1 but ${ids2.length} for te2`);
  const l1 = te1.config.numHiddenLayers;
  const l2 = te2.config.numHiddenLayers;
  if (!te2.config.withProjection) throw new RangeError('encodeSdxlPrompt: text_encoder_2 must have the text projection');
  const a = await textEncoderForward(ctx, te1, ids1, { layers: l1 - 1, hiddenStates: [l1 - 1], final: false, extraEmbeddings: o.extraEmbeddings1 });
  const b = await textEncoderForward(ctx, te2, ids2, { hiddenStates: [l2 - 1], extraEmbeddings: o.extraEmbeddings2, pooling: o.pooling ?? 'argmax' });
  const h1 = a.hiddenStates.get(l1 - 1)!;
  const h2 = b.hiddenStates.get(l2 - 1)!;
  const embeds = await concat(ctx, [h1, h2], -1);
  const pooled = b.textEmbeds!;
  b.textEmbeds = null; // handed to the caller, not released below
  releaseTextEncoderOutput(ctx, a);
  releaseTextEncoderOutput(ctx, b);
  return { embeds, pooled };
}

/** Token ids of prompts for both SDXL tokenizers (each padded/truncated to 77), batch-major. */
export function tokenizeSdxlPrompts(tok1: ClipTokenizer, tok2: ClipTokenizer, prompts: readonly string[]): { ids1: number[]; ids2: number[] } {
  const ids1: number[] = [];
  const ids2: number[] = [];
  for (const p of prompts) {
    ids1.push(...tok1.tokenize77(p).ids);
    ids2.push(...tok2.tokenize77(p).ids);
  }
  return { ids1, ids2 };
}
