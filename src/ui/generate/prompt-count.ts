/**
 * The token counter under a prompt, as A1111 shows it: "n/75" for one sequence, "n/150" once a chunked
 * prompt needs two chunks (tokens counted as prompt-chunks.ts counts them), and in truncate mode how
 * many tokens will be cut.
 */
import type { ChunkTokenizer } from '../../model/tokenizer/prompt-chunks';
import { chunkPrompt, chunkSize } from '../../model/tokenizer/prompt-chunks';

export interface PromptCount {
  tokens: number;
  /** 75 × chunks (75 in truncate mode). */
  capacity: number;
  chunks: number;
  /** Tokens truncate mode drops (0 in chunked mode). */
  dropped: number;
}

export function promptCount(tok: ChunkTokenizer, text: string, mode: 'truncate' | 'chunked', emphasis: boolean): PromptCount {
  const size = chunkSize(tok);
  if (mode === 'truncate') {
    const tokens = tok.encode(text).length;
    return { tokens, capacity: size, chunks: 1, dropped: Math.max(0, tokens - size) };
  }
  const c = chunkPrompt(tok, text, { emphasis });
  return { tokens: c.tokens, capacity: size * c.chunks.length, chunks: c.chunks.length, dropped: 0 };
}

export function countLabel(c: PromptCount): string {
  return `${c.tokens}/${c.capacity}`;
}
