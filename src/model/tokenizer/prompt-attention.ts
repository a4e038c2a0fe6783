/**
 * The A1111 emphasis syntax (stable-diffusion-webui modules/prompt_parser.py parse_prompt_attention,
 * re-implemented from its documented behaviour): a prompt becomes runs of text, each with the weight
 * its token hidden states are multiplied by (prompt-chunks.ts, long-prompt.ts).
 *   (text)        × 1.1 per pair of round brackets (nested: 1.1², …)
 *   [text]        × 1/1.1 per pair of square brackets
 *   (text:1.3)    × 1.3 (replaces the 1.1 of its own pair; outer brackets still multiply)
 *   \( \) \[ \] \\  the literal character
 *   BREAK         (upper case, a word of its own) ends the current 75-token chunk
 * Unbalanced brackets are forgiving, as in A1111: an unclosed "(" or "[" weighs everything after it,
 * a stray ")" or "]" is plain text. A ":" that is not "number)" is plain text. Adjacent runs of equal
 * weight are merged, so "(a)(b)" is one run "ab" at 1.1.
 * Deliberate differences from A1111 (both are crashes or accidents there): a weight that Python's
 * float() refuses ("(a:.)", "(a:1.2.3)") raises in A1111; here that ":…)" is kept as plain text and the
 * pair weighs 1.1. A BREAK inside brackets, or two BREAKs in a row, still break here (A1111 multiplies
 * or merges its BREAK marker and then tokenizes the word "break").
 */

/** One run of prompt text and its weight, or a BREAK. */
export type AttentionPiece = { text: string; weight: number } | { break: true };

export const ROUND_BRACKET_WEIGHT = 1.1;
export const SQUARE_BRACKET_WEIGHT = 1 / 1.1;

/**
 * The tokens of the syntax, in A1111's order of preference: escapes, brackets, ":number)" (a weight
 * closing a round bracket), a closing bracket, a run of ordinary text, a lone ":".
 */
const ATTENTION_RE = /\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|\]|[^\\()[\]:]+|:/g;
/** BREAK as a word of its own, eating the whitespace around it (A1111's re_break). */
const BREAK_RE = /\s*\bBREAK\b\s*/;

/** A decimal literal that Python's float() accepts (digits with at most one point, at least one digit). */
const WEIGHT_RE = /^[+-]?(\d+\.?\d*|\.\d+)$/;

export function parsePromptAttention(prompt: string): AttentionPiece[] {
  const res: ({ text: string; weight: number } | { break: true })[] = [];
  const round: number[] = [];
  const square: number[] = [];
  /** Multiplies the weight of every text run from `start` on (BREAKs have none). */
  const multiplyFrom = (start: number, m: number) => {
    for (let i = start; i < res.length; i++) {
      const p = res[i]!;
      if ('text' in p) p.weight *= m;
    }
  };
  const pushText = (text: string) => {
    text.split(BREAK_RE).forEach((part, i) => {
      if (i > 0) res.push({ break: true });
      res.push({ text: part, weight: 1 });
    });
  };
  for (const m of prompt.matchAll(ATTENTION_RE)) {
    const tok = m[0];
    const weight = m[1];
    if (tok.startsWith('\\')) res.push({ text: tok.slice(1), weight: 1 });
    else if (tok === '(') round.push(res.length);
    else if (tok === '[') square.push(res.length);
    else if (weight !== undefined && round.length && WEIGHT_RE.test(weight)) multiplyFrom(round.pop()!, Number(weight));
    else if (weight !== undefined && round.length) {
      // not a number Python would read: the text stays, and the bracket closes as a plain ")"
      pushText(tok.slice(0, -1));
      multiplyFrom(round.pop()!, ROUND_BRACKET_WEIGHT);
    } else if (tok === ')' && round.length) multiplyFrom(round.pop()!, ROUND_BRACKET_WEIGHT);
    else if (tok === ']' && square.length) multiplyFrom(square.pop()!, SQUARE_BRACKET_WEIGHT);
    else pushText(tok);
  }
  for (const at of round) multiplyFrom(at, ROUND_BRACKET_WEIGHT);
  for (const at of square) multiplyFrom(at, SQUARE_BRACKET_WEIGHT);
  if (!res.length) return [{ text: '', weight: 1 }];
  // merge neighbours of exactly equal weight (A1111 compares the floats with ==)
  const out: AttentionPiece[] = [];
  for (const p of res) {
    const last = out[out.length - 1];
    if (last && 'text' in last && 'text' in p && last.weight === p.weight) last.text += p.text;
    else out.push({ ...p });
  }
  return out;
}
