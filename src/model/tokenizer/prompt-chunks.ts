/**
 * Prompts longer than CLIP's 77 positions (issue 12 point 4), in the A1111/Compel convention
 * (stable-diffusion-webui modules/sd_hijack_clip.py tokenize_line, re-implemented from its behaviour):
 * the prompt's token ids are cut into chunks of 75, each chunk becomes its own 77-token sequence
 * (BOS + ids + EOS, padded with the tokenizer's pad token exactly as tokenize77 pads), every chunk is
 * encoded on its own and the hidden states are concatenated along the sequence axis (long-prompt.ts).
 *
 * Where a chunk ends (A1111's comma_padding_backtrack, default 20): when a chunk is full and the next
 * token is not a comma, and the chunk's last comma is at most 20 tokens back, the tokens after that
 * comma move to the next chunk (the chunk is padded instead), so a phrase is not split across chunks.
 * Otherwise the chunk ends exactly after 75 ids. With emphasis, BREAK ends a chunk early.
 *
 * With emphasis, each run of text of the parsed prompt (prompt-attention.ts) is tokenized on its own,
 * as A1111 does, and every id carries its run's weight; BOS, EOS and padding weigh 1. Without it the
 * whole prompt is tokenized at once, so a prompt of ≤ 75 tokens gives exactly tokenize77's ids.
 */
import type { ClipTokenizer } from './clip-bpe';
import { parsePromptAttention } from './prompt-attention';

/** What chunking needs of a tokenizer. */
export type ChunkTokenizer = Pick<ClipTokenizer, 'encode' | 'bosId' | 'eosId' | 'padId' | 'maxLength'>;

export interface PromptChunk {
  /** maxLength ids: BOS, up to maxLength − 2 content ids, EOS, padding. */
  ids: number[];
  /** One weight per id (1 for BOS, EOS and padding). */
  weights: number[];
}

export interface ChunkedPrompt {
  chunks: PromptChunk[];
  /**
   * A1111's token count: 75 for every chunk but the last (a chunk ended early at a comma or BREAK
   * counts whole: its room is spent) plus the last chunk's ids; shown against 75 × chunks.
   */
  tokens: number;
}

export interface ChunkOptions {
  /** Parse A1111's (word:1.2) / (word) / [word] / BREAK syntax; default false (the text as written). */
  emphasis?: boolean;
  /** How far back (in tokens) a full chunk looks for a comma to end at; 0 turns it off. Default 20 (A1111's). */
  commaBacktrack?: number;
}

export const COMMA_BACKTRACK = 20;

/** Content ids per chunk: maxLength minus BOS and EOS (75 for CLIP). */
export const chunkSize = (tok: Pick<ChunkTokenizer, 'maxLength'>) => tok.maxLength - 2;

/** One chunk's fixed-length sequence from its content ids and their weights. */
function seal(tok: ChunkTokenizer, ids: readonly number[], weights: readonly number[]): PromptChunk {
  const seqIds = [tok.bosId, ...ids, tok.eosId];
  const seqWeights = [1, ...weights, 1];
  while (seqIds.length < tok.maxLength) {
    seqIds.push(tok.padId);
    seqWeights.push(1);
  }
  return { ids: seqIds, weights: seqWeights };
}

/** The chunk of an empty prompt (BOS, EOS, padding): what a shorter prompt is padded with. */
export function emptyChunk(tok: ChunkTokenizer): PromptChunk {
  return seal(tok, [], []);
}

/** The prompt as runs of (text, weight) and chunk breaks. */
function pieces(prompt: string, emphasis: boolean) {
  return emphasis ? parsePromptAttention(prompt) : [{ text: prompt, weight: 1 }];
}

export function chunkPrompt(tok: ChunkTokenizer, prompt: string, o: ChunkOptions = {}): ChunkedPrompt {
  const size = chunkSize(tok);
  const backtrack = o.commaBacktrack ?? COMMA_BACKTRACK;
  const comma = tok.encode(',')[0];
  const chunks: PromptChunk[] = [];
  let ids: number[] = [];
  let weights: number[] = [];
  let lastComma = -1;
  let tokens = 0;
  const next = (last = false) => {
    tokens += last ? ids.length : size;
    chunks.push(seal(tok, ids, weights));
    ids = [];
    weights = [];
    lastComma = -1;
  };
  for (const piece of pieces(prompt, o.emphasis ?? false)) {
    if ('break' in piece) {
      next();
      continue;
    }
    for (const id of tok.encode(piece.text)) {
      if (id === comma) lastComma = ids.length;
      else if (backtrack > 0 && ids.length === size && lastComma >= 0 && ids.length - lastComma <= backtrack) {
        // end the chunk after its last comma; what followed the comma opens the next chunk
        const movedIds = ids.slice(lastComma + 1);
        const movedWeights = weights.slice(lastComma + 1);
        ids = ids.slice(0, lastComma + 1);
        weights = weights.slice(0, lastComma + 1);
        next();
        ids = movedIds;
        weights = movedWeights;
      }
      if (ids.length === size) next();
      ids.push(id);
      weights.push(piece.weight);
    }
  }
  if (ids.length || !chunks.length) next(true);
  return { chunks, tokens };
}

/** `c` with empty chunks appended up to `n` chunks (both prompts of CFG need the same length). */
export function padChunks(tok: ChunkTokenizer, c: ChunkedPrompt, n: number): ChunkedPrompt {
  const chunks = [...c.chunks];
  while (chunks.length < n) chunks.push(emptyChunk(tok));
  return { chunks, tokens: c.tokens };
}

/** What truncation to maxLength (diffusers' behaviour) drops of a prompt; null when it all fits. */
export interface PromptTruncation {
  /** Content tokens of the prompt and how many of them were kept (75). */
  tokens: number;
  kept: number;
  /** The dropped tokens as text (the tokenizer's lower-cased, cleaned form). */
  droppedText: string;
}

export function promptTruncation(tok: ChunkTokenizer & Pick<ClipTokenizer, 'decode'>, prompt: string): PromptTruncation | null {
  const ids = tok.encode(prompt);
  const kept = chunkSize(tok);
  if (ids.length <= kept) return null;
  return { tokens: ids.length, kept, droppedText: tok.decode(ids.slice(kept)) };
}
