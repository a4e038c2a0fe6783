/**
 * parsePromptAttention against the examples of A1111's parse_prompt_attention docstring (the expected
 * weights are A1111's printed floats, e.g. 1.1·1.1·1.3 = 1.5730000000000004) and the edge cases its
 * regex implies (stray brackets, a ":" that is not a weight, escapes, BREAK).
 */
import { describe, expect, it } from 'vitest';
import { parsePromptAttention, type AttentionPiece } from './prompt-attention';

const t = (text: string, weight: number): AttentionPiece => ({ text, weight });
const BREAK: AttentionPiece = { break: true };

describe('parsePromptAttention (A1111 emphasis syntax)', () => {
  it('plain text is one run at 1', () => {
    expect(parsePromptAttention('normal text')).toEqual([t('normal text', 1)]);
    expect(parsePromptAttention('')).toEqual([t('', 1)]);
  });

  it('(word) is ×1.1, [word] is ×1/1.1', () => {
    expect(parsePromptAttention('an (important) word')).toEqual([t('an ', 1), t('important', 1.1), t(' word', 1)]);
    expect(parsePromptAttention('a [faint] word')).toEqual([t('a ', 1), t('faint', 1 / 1.1), t(' word', 1)]);
  });

  it('nested brackets multiply, (a:w) sets its own pair, unclosed brackets weigh to the end', () => {
    // A1111's docstring example, weights as it prints them
    expect(parsePromptAttention('a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).')).toEqual([
      t('a ', 1),
      t('house', 1.5730000000000004),
      t(' ', 1.1),
      t('on', 1),
      t(' a ', 1.1),
      t('hill', 0.55),
      t(', sun, ', 1.1),
      t('sky', 1.4641000000000006),
      t('.', 1.1),
    ]);
    expect(parsePromptAttention('(unbalanced')).toEqual([t('unbalanced', 1.1)]);
    expect(parsePromptAttention('((a:0.5))')).toEqual([t('a', 0.55)]);
    expect(parsePromptAttention('(a : -0.5 )')).toEqual([t('a ', -0.5)]);
  });

  it('adjacent runs of equal weight merge', () => {
    expect(parsePromptAttention('(unnecessary)(parens)')).toEqual([t('unnecessaryparens', 1.1)]);
  });

  it('escapes give the literal bracket; a stray closing bracket is text', () => {
    expect(parsePromptAttention('\\(literal\\]')).toEqual([t('(literal]', 1)]);
    expect(parsePromptAttention('a \\\\ b')).toEqual([t('a \\ b', 1)]);
    expect(parsePromptAttention('smile) and ]')).toEqual([t('smile) and ]', 1)]);
  });

  it('a colon that is not a weight is text', () => {
    expect(parsePromptAttention('time: 5 pm')).toEqual([t('time: 5 pm', 1)]);
    expect(parsePromptAttention('[a:0.5]')).toEqual([t('a:0.5', 1 / 1.1)]);
    expect(parsePromptAttention('a:1.5)')).toEqual([t('a:1.5)', 1)]);
    // not a number Python reads: kept as text, the pair weighs 1.1 (A1111 raises here)
    expect(parsePromptAttention('(a:1.2.3)')).toEqual([t('a:1.2.3', 1.1)]);
  });

  it('BREAK (a word of its own, upper case) splits, eating the spaces around it', () => {
    expect(parsePromptAttention('a cat BREAK a dog')).toEqual([t('a cat', 1), BREAK, t('a dog', 1)]);
    expect(parsePromptAttention('(a cat BREAK a dog)')).toEqual([t('a cat', 1.1), BREAK, t('a dog', 1.1)]);
    expect(parsePromptAttention('breakfast BREAKING Break')).toEqual([t('breakfast BREAKING Break', 1)]);
  });
});
