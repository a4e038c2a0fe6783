/**
 * A1111-style chunking (prompt-chunks.ts) on SDXL's real tokenizers (the golden vocab/merges): a short
 * prompt is exactly tokenize77, long prompts are cut at 75 ids or after a comma ≤ 20 tokens back, weights
 * follow the emphasis runs, BREAK starts a chunk, and truncation reports the dropped words. Expected ids
 * are built from ClipTokenizer.encode/tokenize77 (checked against transformers in clip-bpe.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from './clip-bpe';
import { chunkPrompt, emptyChunk, padChunks, promptTruncation } from './prompt-chunks';

const GOLDEN = join(__dirname, '../../../golden');
const read = (p: string) => readFileSync(join(GOLDEN, p), 'utf8');
const load = (dir: string) => ClipTokenizer.fromFiles(read(`models/${dir}/vocab.json`), read(`models/${dir}/merges.txt`), ClipTokenizer.configFromJson(read(`models/${dir}/tokenizer_config.json`)));
const tok1 = load('tokenizer');
const tok2 = load('tokenizer_2');

const [CAT] = tok1.encode('cat') as [number];
const [DOG] = tok1.encode('dog') as [number];
const [COMMA] = tok1.encode(',') as [number];
const words = (w: string, n: number) => Array.from({ length: n }, () => w).join(' ');
/** BOS + ids + EOS, padded to 77 with tok's pad id. */
const seq = (tok: ClipTokenizer, ids: number[]) => [tok.bosId, ...ids, tok.eosId, ...Array<number>(75 - ids.length).fill(tok.padId)];

describe('chunkPrompt', () => {
  it('a prompt of ≤ 75 tokens is one chunk with exactly tokenize77 ids, weights 1', () => {
    for (const tok of [tok1, tok2]) {
      for (const p of ['', 'a photo of a corgi on a surfboard, golden hour', words('cat', 75)]) {
        const c = chunkPrompt(tok, p);
        expect(c.chunks.length).toBe(1);
        expect(c.chunks[0]!.ids).toEqual(tok.tokenize77(p).ids);
        expect(c.chunks[0]!.weights).toEqual(Array<number>(77).fill(1));
        expect(c.tokens).toBe(tok.encode(p).length);
      }
    }
  });

  it('76 to 150 tokens without commas: two chunks cut at 75, the first equal to the truncated prompt', () => {
    const p = `${words('cat', 75)} ${words('dog', 25)}`;
    for (const tok of [tok1, tok2]) {
      const c = chunkPrompt(tok, p);
      expect(c.chunks.map((x) => x.ids)).toEqual([tok.tokenize77(p).ids, seq(tok, Array<number>(25).fill(DOG))]);
      expect(c.tokens).toBe(100);
    }
    expect(chunkPrompt(tok1, words('cat', 76)).chunks.length).toBe(2);
    expect(chunkPrompt(tok1, words('cat', 151)).chunks.length).toBe(3);
  });

  it('a full chunk ends after its last comma when that is at most 20 tokens back', () => {
    // 60 cats, a comma, 30 dogs: at 75 ids the comma is 15 back → chunk 1 = 60 cats + comma (padded)
    const p = `${words('cat', 60)}, ${words('dog', 30)}`;
    const c = chunkPrompt(tok1, p);
    expect(c.chunks.map((x) => x.ids)).toEqual([seq(tok1, [...Array<number>(60).fill(CAT), COMMA]), seq(tok1, Array<number>(30).fill(DOG))]);
    expect(c.tokens).toBe(75 + 30); // the first chunk's room counts as spent, as A1111 counts it
  });

  it('a comma more than 20 tokens back, or backtracking off: a hard cut at 75', () => {
    const far = `${words('cat', 50)}, ${words('dog', 40)}`;
    const ids = tok1.encode(far);
    const hard = [seq(tok1, ids.slice(0, 75)), seq(tok1, ids.slice(75))];
    expect(chunkPrompt(tok1, far).chunks.map((x) => x.ids)).toEqual(hard);
    const near = `${words('cat', 60)}, ${words('dog', 30)}`;
    const nearIds = tok1.encode(near);
    expect(chunkPrompt(tok1, near, { commaBacktrack: 0 }).chunks.map((x) => x.ids)).toEqual([seq(tok1, nearIds.slice(0, 75)), seq(tok1, nearIds.slice(75))]);
  });

  it('a comma as the 76th token opens the next chunk', () => {
    const c = chunkPrompt(tok1, `${words('cat', 75)}, dog`);
    expect(c.chunks.map((x) => x.ids)).toEqual([seq(tok1, Array<number>(75).fill(CAT)), seq(tok1, [COMMA, DOG])]);
  });

  it('emphasis: each id carries its run weight (BOS, EOS, padding 1); off, brackets are text', () => {
    const c = chunkPrompt(tok1, 'a (cat:1.5) and [dog]', { emphasis: true });
    const ids = [...tok1.encode('a '), CAT, ...tok1.encode(' and '), DOG];
    expect(c.chunks[0]!.ids).toEqual(seq(tok1, ids));
    expect(c.chunks[0]!.weights.slice(0, 7)).toEqual([1, 1, 1.5, 1, 1 / 1.1, 1, 1]);
    expect(c.chunks[0]!.weights.slice(7)).toEqual(Array<number>(70).fill(1));
    const plain = chunkPrompt(tok1, 'a (cat:1.5) and [dog]');
    expect(plain.chunks[0]!.ids).toEqual(tok1.tokenize77('a (cat:1.5) and [dog]').ids);
  });

  it('BREAK (with emphasis) ends the chunk; a leading BREAK leaves an empty first chunk', () => {
    const c = chunkPrompt(tok1, 'a cat BREAK a dog', { emphasis: true });
    expect(c.chunks.map((x) => x.ids)).toEqual([seq(tok1, tok1.encode('a cat')), seq(tok1, tok1.encode('a dog'))]);
    expect(c.tokens).toBe(75 + 2);
    expect(chunkPrompt(tok1, 'BREAK dog', { emphasis: true }).chunks.map((x) => x.ids)).toEqual([seq(tok1, []), seq(tok1, [DOG])]);
    expect(chunkPrompt(tok1, 'a cat BREAK a dog').chunks.length).toBe(1);
  });

  it('padChunks appends empty chunks (the encoding of an empty prompt)', () => {
    expect(emptyChunk(tok2).ids).toEqual(tok2.tokenize77('').ids);
    const c = padChunks(tok1, chunkPrompt(tok1, 'cat'), 3);
    expect(c.chunks.map((x) => x.ids)).toEqual([tok1.tokenize77('cat').ids, tok1.tokenize77('').ids, tok1.tokenize77('').ids]);
  });
});

describe('promptTruncation (truncate mode notice)', () => {
  it('null when it fits; else the token counts and the dropped words', () => {
    expect(promptTruncation(tok1, words('cat', 75))).toBeNull();
    expect(promptTruncation(tok1, `${words('cat', 74)} a Red Zebra, running!`)).toEqual({ tokens: 80, kept: 75, droppedText: 'red zebra , running !' });
  });

  it('decode reads the ids back as the cleaned text', () => {
    expect(tok1.decode(tok1.encode('A photo of a CORGI, café'))).toBe('a photo of a corgi , café');
  });
});
