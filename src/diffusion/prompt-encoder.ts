/**
 * How the sampling loop encodes its prompts (issue 12 point 4). 'truncate' (the default) is diffusers:
 * each prompt cut to 77 tokens, encodePrompt called exactly as before. 'chunked' is A1111's long
 * prompts (src/model/text-encoder/long-prompt.ts): the prompt and the negative prompt are encoded with
 * the same number of 77-token chunks — the larger of the two, the shorter padded with empty chunks, as
 * A1111's pad_cond_uncond and Compel's pad_conditioning_tensors_to_same_length do — because CFG runs
 * them as one batch (and sequential CFG, regions and EWA read rows of one [2, T, C] tensor).
 */
import type { PromptEncoding, PromptMode } from '../model/text-encoder/long-prompt';
import type { PromptEmbedding, SdxlPipelineParts } from './text-to-image';

/** The loop's prompt options (TextToImageParams). */
export interface PromptModeParams {
  prompt: string;
  negativePrompt?: string;
  /** Default 'truncate'. */
  promptMode?: PromptMode;
  /** A1111's (word:1.2) emphasis; chunked mode only. */
  emphasis?: boolean;
}

/** A chunked prompt was asked of parts that cannot chunk. */
export class PromptModeUnsupportedError extends Error {
  override readonly name = 'PromptModeUnsupportedError';
  readonly code = 'prompt-mode-unsupported';
}

/** encodePrompt bound to the run's mode; `withNegative`: the negative prompt is encoded too. */
export function promptEncoder(parts: SdxlPipelineParts, p: PromptModeParams, withNegative: boolean): (prompt: string) => Promise<PromptEmbedding> {
  if ((p.promptMode ?? 'truncate') === 'truncate') return (s) => parts.encodePrompt(s);
  if (!parts.promptChunks) throw new PromptModeUnsupportedError('This model cannot encode long prompts in chunks; use the truncate prompt mode.');
  const chunkOf = parts.promptChunks.bind(parts);
  const base: PromptEncoding = { mode: 'chunked', emphasis: p.emphasis ?? false };
  const prompts = withNegative ? [p.prompt, p.negativePrompt ?? ''] : [p.prompt];
  const chunks = Math.max(...prompts.map((s) => chunkOf(s, base)));
  return (s) => parts.encodePrompt(s, { ...base, chunks });
}
