/**
 * Prompt autocomplete for concepts (issue 11, "prompts name concepts by their tokens"): which word the
 * caret is in, which concepts it may mean, and the text after picking one. A concept is named in a
 * prompt by its phrase "<p1> <p2> class" (the caption form it was trained with, spec §1.4); the engine
 * finds the placeholders and applies EWA (spec §3). Pure functions: the component only wires keys.
 */
import type { ConceptMeta } from '../../../storage/concepts/record';

export type PromptConcept = Pick<ConceptMeta, 'id' | 'name' | 'classWord' | 'placeholders'>;

/** The word being typed: text[start, end) (end runs past the caret to the word's end), and what to match. */
export interface PromptQuery {
  start: number;
  end: number;
  /** The word without a leading "<", lower case. */
  query: string;
  /** Started with "<": every concept is a candidate, even for an empty query. */
  explicit: boolean;
}

/** Least characters of a bare word (no "<") before concepts are suggested: "a", "d" would match too much. */
export const MIN_BARE_QUERY = 2;

const isSpace = (ch: string | undefined) => ch === undefined || /[\s,;()[\]{}]/.test(ch);

/** The word at `caret`, or null when the caret is not in a word that could name a concept. */
export function promptQueryAt(text: string, caret: number): PromptQuery | null {
  if (caret < 0 || caret > text.length) return null;
  let start = caret;
  while (start > 0 && !isSpace(text[start - 1])) start--;
  let end = caret;
  while (end < text.length && !isSpace(text[end])) end++;
  const word = text.slice(start, caret);
  if (word.startsWith('<')) return { start, end, query: word.slice(1).replace(/>$/, '').toLowerCase(), explicit: true };
  if (word.length < MIN_BARE_QUERY) return null;
  return { start, end, query: word.toLowerCase(), explicit: false };
}

/** Placeholders without their angle brackets, lower case: "<Rex1>" → "rex1". */
const bare = (p: string) => p.replace(/^<|>$/g, '').toLowerCase();

/**
 * How well a concept fits the query (higher is better; 0: not at all). A bare word matches only a
 * prefix of the name or of a placeholder (so writing "dog" does not pop up every dog); after "<" any
 * substring of the name, class word or placeholders counts.
 */
export function matchScore(c: PromptConcept, q: Pick<PromptQuery, 'query' | 'explicit'>): number {
  const name = c.name.toLowerCase();
  const words = c.placeholders.map(bare);
  if (q.query === '') return q.explicit ? 1 : 0;
  if (words.some((w) => w === q.query)) return 6;
  if (words.some((w) => w.startsWith(q.query))) return 5;
  if (name.startsWith(q.query)) return 4;
  if (name.split(/\s+/).some((w) => w.startsWith(q.query))) return 3;
  if (!q.explicit) return 0;
  if (name.includes(q.query) || words.some((w) => w.includes(q.query))) return 2;
  if (c.classWord.toLowerCase().includes(q.query)) return 1;
  return 0;
}

/** The concepts the query may mean, best first (ties keep the library's task order), at most `limit`. */
export function matchConcepts<T extends PromptConcept>(concepts: readonly T[], q: Pick<PromptQuery, 'query' | 'explicit'>, limit = 8): T[] {
  return concepts
    .map((c, i) => ({ c, i, s: matchScore(c, q) }))
    .filter((x) => x.s > 0)
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, limit)
    .map((x) => x.c);
}

/** "<p1> <p2> class": how a prompt names the concept (the trained caption's concept phrase). */
export function conceptPhrase(c: Pick<PromptConcept, 'placeholders' | 'classWord'>): string {
  return [...c.placeholders, c.classWord.trim()].filter(Boolean).join(' ');
}

/** Replaces the word text[start, end) with the concept's phrase; a space follows it unless one already does. */
export function insertConcept(text: string, q: Pick<PromptQuery, 'start' | 'end'>, c: PromptConcept): { text: string; caret: number } {
  const phrase = conceptPhrase(c);
  const after = text.slice(q.end);
  const sep = after.length > 0 && /^[\s,;.]/.test(after) ? '' : ' ';
  const out = text.slice(0, q.start) + phrase + sep + after;
  // the caret lands after the space that follows, ready for the next word
  return { text: out, caret: q.start + phrase.length + (sep.length || (/^\s/.test(after) ? 1 : 0)) };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether the prompt names the concept: one of its placeholders stands as a word of its own. */
export function promptNames(text: string, c: Pick<PromptConcept, 'placeholders'>): boolean {
  return c.placeholders.some((p) => new RegExp(`(^|[\\s,;(])${escapeRe(p)}(?=$|[\\s,;.)])`).test(text));
}

/** The concepts a prompt names, in library order. */
export function conceptsNamedIn<T extends PromptConcept>(text: string, concepts: readonly T[]): T[] {
  return concepts.filter((c) => promptNames(text, c));
}

/** Appends the concept's phrase (", " between it and earlier text), as the region picker does. */
export function appendConcept(text: string, c: PromptConcept): string {
  const t = text.trimEnd();
  if (t === '') return conceptPhrase(c);
  return `${t}${/[,;]$/.test(t) ? ' ' : ', '}${conceptPhrase(c)}`;
}

/** Removes the concept's phrase (or, if it was edited, its placeholders) and tidies the separators left. */
export function removeConcept(text: string, c: PromptConcept): string {
  let out = text.split(conceptPhrase(c)).join('');
  for (const p of c.placeholders) out = out.replace(new RegExp(`(^|[\\s,;(])${escapeRe(p)}(?=$|[\\s,;.)])`, 'g'), '$1');
  return out
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/\s+([,;.])/g, '$1')
    .replace(/([,;])(\s*[,;])+/g, '$1')
    .replace(/^[\s,;]+|[\s,;]+$/g, '');
}
