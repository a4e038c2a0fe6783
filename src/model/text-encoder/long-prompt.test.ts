/**
 * The CPU half of long prompts (long-prompt.ts): A1111's emphasis against a direct evaluation of its
 * formula z·w·(mean(z)/mean(z·w)) per chunk and encoder, and both tokenizers' chunks padded to one count.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../tokenizer/clip-bpe';
import { applyEmphasis, sdxlPromptChunks, tokenizeSdxlChunked } from './long-prompt';

const GOLDEN = join(__dirname, '../../../golden');
const read = (p: string) => readFileSync(join(GOLDEN, p), 'utf8');
const load = (dir: string) => ClipTokenizer.fromFiles(read(`models/${dir}/vocab.json`), read(`models/${dir}/merges.txt`), ClipTokenizer.configFromJson(read(`models/${dir}/tokenizer_config.json`)));
const tok1 = load('tokenizer');
const tok2 = load('tokenizer_2');

/** A deterministic pseudo-random array (LCG), values in about [-1, 2) so means are not near 0. */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 3 - 1;
  });
}

describe('applyEmphasis (A1111 "Original": scale rows, restore the mean)', () => {
  const seq = 5, C = 7, k = 2, h1 = 3;
  const w1 = [1, 1.5, 0.5, 1, 1, /* chunk 2 */ 1, 1, 1, 1, 1];
  const w2 = [1, 1, 2, 1, 1, /* chunk 2 */ 1, 1.21, 1, 1, 1];

  it('matches z·w·(mean before / mean after) per chunk and per encoder span', () => {
    const z = values(k * seq * C, 7);
    const got = applyEmphasis(Float32Array.from(z), seq, C, [{ from: 0, to: h1, weights: w1 }, { from: h1, to: C, weights: w2 }]);
    for (let chunk = 0; chunk < k; chunk++) {
      for (const [from, to, w] of [[0, h1, w1], [h1, C, w2]] as const) {
        const cell = (r: number, c: number) => z[(chunk * seq + r) * C + c]!;
        let before = 0, after = 0;
        for (let r = 0; r < seq; r++) for (let c = from; c < to; c++) {
          before += cell(r, c);
          after += cell(r, c) * w[chunk * seq + r]!;
        }
        for (let r = 0; r < seq; r++) for (let c = from; c < to; c++) {
          const want = cell(r, c) * w[chunk * seq + r]! * (before / after);
          expect(got[(chunk * seq + r) * C + c]!).toBeCloseTo(want, 5);
        }
      }
    }
  });

  it('all weights 1: the bits are unchanged', () => {
    const z = values(k * seq * C, 3);
    const ones = Array<number>(k * seq).fill(1);
    expect(applyEmphasis(Float32Array.from(z), seq, C, [{ from: 0, to: C, weights: ones }])).toEqual(z);
  });

  it('refuses weights or channels that do not fit', () => {
    expect(() => applyEmphasis(new Float32Array(seq * C), seq, C, [{ from: 0, to: C, weights: [1] }])).toThrow(RangeError);
    expect(() => applyEmphasis(new Float32Array(seq * C), seq, C, [{ from: 2, to: C + 1, weights: Array<number>(seq).fill(1) }])).toThrow(RangeError);
  });
});

describe('tokenizeSdxlChunked', () => {
  it('both tokenizers, padded to minChunks with empty chunks; one chunk = tokenize77 of each', () => {
    const p = 'a photo of a (corgi:1.3) on a surfboard';
    const one = tokenizeSdxlChunked(tok1, tok2, p);
    expect(one.chunks).toBe(1);
    expect(one.ids1).toEqual(tok1.tokenize77(p).ids);
    expect(one.ids2).toEqual(tok2.tokenize77(p).ids);
    const three = tokenizeSdxlChunked(tok1, tok2, p, { emphasis: true, minChunks: 3 });
    expect(three.chunks).toBe(3);
    expect(three.ids2.slice(77)).toEqual([...tok2.tokenize77('').ids, ...tok2.tokenize77('').ids]);
    expect(three.weights1.filter((w) => w !== 1)).toEqual([1.3]);
    expect(three.weights1.length).toBe(3 * 77);
  });

  it('a count that differs between the tokenizers ("!" is tokenizer_2\'s pad token) takes the larger', () => {
    // tokenizer 1 merges "!!!!" into few symbols; tokenizer_2 keeps every "!" as its own id
    const p = `${Array.from({ length: 70 }, () => 'cat').join(' ')} !!!!!!!!!!!!`;
    const n1 = tok1.encode(p).length, n2 = tok2.encode(p).length;
    expect(n1).toBeLessThanOrEqual(75);
    expect(n2).toBeGreaterThan(75);
    const c = tokenizeSdxlChunked(tok1, tok2, p);
    expect(c.chunks).toBe(2);
    expect(sdxlPromptChunks(tok1, tok2, p)).toBe(2);
    expect(c.ids1.slice(77)).toEqual(tok1.tokenize77('').ids);
  });
});
