/**
 * Prompts are never cut silently (issue 12 point 4): before a run, every prompt the run encodes with
 * diffusers' truncation (the prompt and negative in 'truncate' mode, and always the region prompts and
 * concept prompts, whose layer-wise and regional encodings are one 77-token sequence) is checked
 * against the 75 content tokens a sequence holds; each one that is cut becomes a notice naming the
 * prompt, how many tokens it had and the words that were dropped. The engine sends them with the
 * 'encode' progress and the result; the Generate page shows them.
 */
import type { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import { promptTruncation } from '../model/tokenizer/prompt-chunks';
import type { PromptMode } from '../model/text-encoder/long-prompt';
import type { GenerateParams, PromptTruncationNotice } from './protocol';

/**
 * The prompt mode a run can honour: chunked needs the plain loop (regions and EWA encode their prompts
 * as one 77-token sequence each and mix rows of equal length), so a run with painted regions or named
 * concepts is truncated whatever was asked.
 */
export function effectivePromptMode(asked: PromptMode | undefined, plainLoop: boolean): PromptMode {
  return plainLoop ? (asked ?? 'truncate') : 'truncate';
}

/** Notices for every prompt of `params` that `mode` cuts (tokenizer: the model's first, CLIP-L). */
export function truncationNotices(tok: ClipTokenizer, params: Pick<GenerateParams, 'prompt' | 'negativePrompt' | 'regions'>, mode: PromptMode): PromptTruncationNotice[] {
  const fields: [string, string][] = [];
  if (mode === 'truncate') fields.push(['prompt', params.prompt], ['negative prompt', params.negativePrompt]);
  (params.regions ?? []).forEach((r, i) => {
    const name = r.name ? `region “${r.name}”` : `region ${i + 1}`;
    fields.push([`${name} prompt`, r.prompt], [`${name} negative prompt`, r.negativePrompt]);
  });
  const out: PromptTruncationNotice[] = [];
  for (const [field, text] of fields) {
    const t = promptTruncation(tok, text);
    if (t) out.push({ field, tokens: t.tokens, kept: t.kept, droppedText: t.droppedText });
  }
  return out;
}

/** One line for a notice: "The prompt has 92 tokens; the last 17 were dropped: “…”." */
export function describeTruncation(n: PromptTruncationNotice): string {
  const dropped = n.tokens - n.kept;
  return `The ${n.field} has ${n.tokens} tokens; only ${n.kept} fit, so the last ${dropped} ${dropped === 1 ? 'was' : 'were'} dropped: “${n.droppedText}”.`;
}
