/**
 * Token ids of a training caption that names a concept by its placeholder words (spec §1.4–1.5): the
 * words are added tokens, one id each (vocab_size + j for word j), never split by BPE; the rest of the
 * caption is tokenized as usual. Layer-wise copies are made later (layers.ts layerwiseIds).
 *
 * A placeholder must not be a word the tokenizer already knows (its meaning would be overwritten for
 * every prompt that uses that word): PlaceholderCollisionError.
 */
import type { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { PlaceholderCollisionError } from './errors';

export function checkPlaceholders(tok: ClipTokenizer, words: readonly string[]): void {
  const seen = new Set<string>();
  for (const w of words) {
    if (!/^\S+$/.test(w)) throw new PlaceholderCollisionError(w, 'a placeholder is one word without spaces');
    if (tok.isVocabularyWord(w)) throw new PlaceholderCollisionError(w, 'it is already a word of the vocabulary, whose meaning training would change everywhere');
    if (seen.has(w)) throw new PlaceholderCollisionError(w, 'it is listed twice');
    seen.add(w);
  }
}

export interface CaptionIds {
  /** maxLength ids: BOS, content, EOS, padding. */
  ids: number[];
  truncated: boolean;
  /** Positions of the placeholder ids (the first one bounds CLIP's shared causal prefix). */
  placeholderPositions: number[];
}

export function conceptCaptionIds(tok: ClipTokenizer, caption: string, placeholders: readonly string[], vocabStart: number): CaptionIds {
  checkPlaceholders(tok, placeholders);
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(${[...placeholders].sort((a, b) => b.length - a.length).map(esc).join('|')})`);
  const content: number[] = [];
  for (const piece of caption.split(re)) {
    const j = placeholders.indexOf(piece);
    if (j >= 0) content.push(vocabStart + j);
    else if (piece.trim()) content.push(...tok.encode(piece));
  }
  const keep = tok.maxLength - 2;
  const ids = [tok.bosId, ...content.slice(0, keep), tok.eosId];
  while (ids.length < tok.maxLength) ids.push(tok.padId);
  const placeholderPositions = ids.flatMap((id, i) => (id >= vocabStart ? [i] : []));
  return { ids, truncated: content.length > keep, placeholderPositions };
}
