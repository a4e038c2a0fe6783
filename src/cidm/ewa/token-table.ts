/**
 * The added tokens of every concept in the library, as EWA registers them at inference (spec §3.2 step
 * 1, inference.py:39-85): each placeholder word of each task gets one token per cross-attention layer,
 * numbered globally across tasks, its learned row copied in.
 *
 * Numbering (per text encoder k, whose vocabulary ends at vocab_size_k): the W placeholder words of all
 * concepts, in task order, are words w = 0..W-1; word w at layer l is id vocab_size_k + l·W + w, i.e.
 * row l·W + w of an extra-embedding table [L·W, hidden_k]. That is exactly the layout layers.ts
 * `layerwiseIds` makes of a prompt whose word w is written as vocab_size_k + w, so a prompt's layer-l
 * copy uses the layer-l ids of every concept it names, and a prompt without any placeholder has L
 * identical copies.
 *
 * The concept prompt (spec §3.2 step 2): all placeholder words of all tasks in task order joined by
 * spaces, BOS at position 0, then the words, EOS, padding. Its layer-l states are the keys of EWA's
 * similarity; CLIP's causal mask makes them contextual, so this exact order and layout is reproduced.
 * CIDM's ten tasks fit one 77-token sequence; a larger library is split into several sequences, each
 * with its own BOS and whole tasks only (no task's words straddle two), which is CIDM's construction
 * for whatever fits in the first one.
 */
import type { Concept } from '../concepts/concept';
import type { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { conceptCaptionIds } from '../train/caption-ids';
import { PlaceholderCollisionError } from '../train/errors';
import { layerwiseIds } from '../train/layers';

/** What the table needs of a text encoder. */
export interface EncoderVocab {
  vocabSize: number;
  hiddenSize: number;
}

/** What the table needs of a tokenizer for the fixed-length sequences. */
export type SequenceTokens = Pick<ClipTokenizer, 'bosId' | 'eosId' | 'padId' | 'maxLength'>;

export interface TaskSpan {
  /** Index of the task's first word among all words. */
  start: number;
  count: number;
}

export interface EwaTokenTable {
  /** The concepts in task order: the order of every EWA weight vector. */
  readonly concepts: readonly Concept[];
  /** Cross-attention layers L. */
  readonly layers: number;
  /** All placeholder words in task order. */
  readonly words: readonly string[];
  /** Per concept (task order), its words among `words`. */
  readonly spans: readonly TaskSpan[];
  /** Per text encoder: vocab_size (the first added id) and hidden width. */
  readonly encoders: readonly EncoderVocab[];
}

/**
 * Orders the concepts by task (stable for equal task indices) and checks that every one fits the model:
 * L layers, one token table per encoder of that encoder's width, and words no other concept uses.
 */
export function buildTokenTable(concepts: readonly Concept[], encoders: readonly EncoderVocab[], layers: number): EwaTokenTable {
  if (!concepts.length) throw new RangeError('EWA needs at least one concept');
  const ordered = concepts.map((c, i) => ({ c, i })).sort((a, b) => a.c.taskIndex - b.c.taskIndex || a.i - b.i).map((x) => x.c);
  const words: string[] = [];
  const spans: TaskSpan[] = [];
  const owner = new Map<string, string>();
  for (const c of ordered) {
    if (c.layers !== layers) throw new RangeError(`concept "${c.name}" has tokens for ${c.layers} cross-attention layers, this UNet has ${layers}`);
    if (c.tokens.length !== encoders.length) throw new RangeError(`concept "${c.name}" has ${c.tokens.length} token tables for ${encoders.length} text encoders`);
    const P = c.placeholders.length;
    if (!P) throw new RangeError(`concept "${c.name}" has no placeholder words`);
    encoders.forEach((e, k) => {
      if (c.tokenWidths[k] !== e.hiddenSize) throw new RangeError(`concept "${c.name}": token table ${k + 1} is ${c.tokenWidths[k]} wide, the text encoder ${e.hiddenSize}`);
      if (c.tokens[k]!.length !== layers * P * e.hiddenSize) {
        throw new RangeError(`concept "${c.name}": token table ${k + 1} has ${c.tokens[k]!.length} values, [${layers}, ${P}, ${e.hiddenSize}] needs ${layers * P * e.hiddenSize}`);
      }
    });
    for (const w of c.placeholders) {
      const other = owner.get(w);
      if (other !== undefined) throw new PlaceholderCollisionError(w, `concepts "${other}" and "${c.name}" both use it`);
      owner.set(w, c.name);
    }
    spans.push({ start: words.length, count: P });
    words.push(...c.placeholders);
  }
  return { concepts: ordered, layers, words, spans, encoders: encoders.map((e) => ({ vocabSize: e.vocabSize, hiddenSize: e.hiddenSize })) };
}

/** The added id of word w (task order) at layer l for text encoder k. */
export function addedTokenId(t: EwaTokenTable, encoder: number, word: number, layer: number): number {
  return t.encoders[encoder]!.vocabSize + layer * t.words.length + word;
}

/** Text encoder k's extra-embedding rows [L·W, hidden_k]: row l·W + w = word w's learned layer-l token. */
export function extraEmbeddingRows(t: EwaTokenTable, encoder: number): Float32Array {
  const h = t.encoders[encoder]!.hiddenSize;
  const W = t.words.length;
  const out = new Float32Array(t.layers * W * h);
  t.concepts.forEach((c, i) => {
    const { start, count: P } = t.spans[i]!;
    const src = c.tokens[encoder]!;
    for (let l = 0; l < t.layers; l++) {
      for (let j = 0; j < P; j++) out.set(src.subarray((l * P + j) * h, (l * P + j + 1) * h), (l * W + start + j) * h);
    }
  });
  return out;
}

export interface PromptIds {
  /** maxLength ids with word w written as vocab_size + w (the layer-less form). */
  ids: number[];
  /** Whether the prompt names any placeholder word (else every layer's copy is the same). */
  hasPlaceholders: boolean;
  truncated: boolean;
}

/** A prompt's ids for text encoder k, placeholder words of every concept as added tokens. */
export function promptIds(t: EwaTokenTable, tok: ClipTokenizer, encoder: number, prompt: string): PromptIds {
  const r = conceptCaptionIds(tok, prompt, t.words, t.encoders[encoder]!.vocabSize);
  return { ids: r.ids, hasPlaceholders: r.placeholderPositions.length > 0, truncated: r.truncated };
}

/** The L layer-wise copies (L·maxLength ids, layer-major) of a layer-less id sequence for encoder k. */
export function layerwisePromptIds(t: EwaTokenTable, encoder: number, ids: readonly number[]): number[] {
  return layerwiseIds(ids, t.encoders[encoder]!.vocabSize, t.words.length, t.layers);
}

export interface ConceptPromptLayout {
  /** Sequences of the concept prompt (1 while all words fit one). */
  sequences: number;
  /** Tokens per sequence. */
  seq: number;
  /** Per word w (task order): its sequence and its position in it (1 + its index there: BOS is 0). */
  places: { sequence: number; position: number }[];
}

/** Where each word sits in the concept prompt: whole tasks packed into sequences of maxLength − 2 words. */
export function conceptPromptLayout(t: EwaTokenTable, maxLength: number): ConceptPromptLayout {
  const room = maxLength - 2;
  const places: { sequence: number; position: number }[] = [];
  let sequence = 0;
  let used = 0;
  t.spans.forEach((s, i) => {
    if (s.count > room) throw new RangeError(`concept "${t.concepts[i]!.name}" has ${s.count} placeholder words; one prompt holds ${room}`);
    if (used + s.count > room) {
      sequence++;
      used = 0;
    }
    for (let j = 0; j < s.count; j++) places.push({ sequence, position: 1 + used + j });
    used += s.count;
  });
  return { sequences: sequence + 1, seq: maxLength, places };
}

/** The concept prompt's layer-less ids for encoder k (sequences·seq), BOS/EOS/padding of its tokenizer. */
export function conceptPromptIds(t: EwaTokenTable, encoder: number, tok: SequenceTokens): number[] {
  const layout = conceptPromptLayout(t, tok.maxLength);
  const ids: number[] = [];
  for (let s = 0; s < layout.sequences; s++) ids.push(tok.bosId, ...Array<number>(tok.maxLength - 1).fill(tok.padId));
  const vocab = t.encoders[encoder]!.vocabSize;
  // Each sequence's EOS follows its last word.
  const last = new Map<number, number>();
  layout.places.forEach(({ sequence, position }, w) => {
    ids[sequence * tok.maxLength + position] = vocab + w;
    last.set(sequence, Math.max(last.get(sequence) ?? 0, position));
  });
  for (const [sequence, position] of last) ids[sequence * tok.maxLength + position + 1] = tok.eosId;
  return ids;
}
