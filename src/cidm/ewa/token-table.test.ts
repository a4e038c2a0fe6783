import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { unetArch, type UNetConfigJson } from '../../model/unet/arch';
import { PlaceholderCollisionError } from '../train/errors';
import { syntheticConcepts } from './synthetic';
import {
  addedTokenId, buildTokenTable, conceptPromptIds, conceptPromptLayout, extraEmbeddingRows, layerwisePromptIds, promptIds,
} from './token-table';

const DIR = fileURLToPath(new URL('../../../golden/models/', import.meta.url));
const read = (p: string) => readFileSync(join(DIR, p), 'utf8');
const tokenizer = (sub: string) => ClipTokenizer.fromFiles(read(`${sub}/vocab.json`), read(`${sub}/merges.txt`), ClipTokenizer.configFromJson(read(`${sub}/tokenizer_config.json`)));
const tok1 = tokenizer('tokenizer');
const tok2 = tokenizer('tokenizer_2');
const arch = unetArch(JSON.parse(read('unet/config.json')) as UNetConfigJson);
const ENC = [
  { vocabSize: 49408, hiddenSize: 32 },
  { vocabSize: 49408, hiddenSize: 48 },
];
const L = 28;

describe('EWA token table', () => {
  // Three concepts given out of task order, with 2, 3 and 2 words.
  const [a, b, c] = syntheticConcepts(arch, [32, 48], 3, { words: 2 });
  const b3 = { ...syntheticConcepts(arch, [32, 48], 2, { words: 3, seed: 9 })[1]!, taskIndex: 2 };
  const table = buildTokenTable([c!, a!, b3], ENC, L);

  it('orders the concepts by task and numbers all words globally, layer-major', () => {
    expect(table.concepts.map((x) => x.taskIndex)).toEqual([1, 2, 3]);
    expect(table.words).toEqual(['<s1_1>', '<s1_2>', '<s2_1>', '<s2_2>', '<s2_3>', '<s3_1>', '<s3_2>']);
    expect(table.spans).toEqual([{ start: 0, count: 2 }, { start: 2, count: 3 }, { start: 5, count: 2 }]);
    expect(addedTokenId(table, 0, 0, 0)).toBe(49408);
    expect(addedTokenId(table, 1, 3, 2)).toBe(49408 + 2 * 7 + 3);
  });

  it('extra rows: row l·W + w is the layer-l token of word w, from its own concept', () => {
    for (const k of [0, 1]) {
      const h = ENC[k]!.hiddenSize;
      const rows = extraEmbeddingRows(table, k);
      expect(rows).toHaveLength(L * 7 * h);
      for (const [l, w, concept, j, P] of [[0, 0, a!, 0, 2], [5, 4, b3, 2, 3], [27, 6, c!, 1, 2]] as const) {
        const want = concept.tokens[k]!.subarray((l * P + j) * h, (l * P + j + 1) * h);
        expect(Array.from(rows.subarray((l * 7 + w) * h, (l * 7 + w + 1) * h))).toEqual(Array.from(want));
      }
    }
  });

  it("a prompt's layer-l copy uses the layer-l ids of every concept it names", () => {
    const p = promptIds(table, tok1, 0, 'a photo of <s3_1> <s3_2> next to <s1_2>');
    expect(p.hasPlaceholders).toBe(true);
    expect(p.ids.slice(0, 4)).toEqual([49406, 320, 1125, 539]);
    const lw = layerwisePromptIds(table, 0, p.ids);
    expect(lw).toHaveLength(L * 77);
    for (const l of [0, 13, 27]) {
      const copy = lw.slice(l * 77, (l + 1) * 77);
      expect(copy[4]).toBe(addedTokenId(table, 0, 5, l));
      expect(copy[5]).toBe(addedTokenId(table, 0, 6, l));
      expect(copy[8]).toBe(addedTokenId(table, 0, 1, l));
      expect(copy.filter((id) => id < 49408)).toEqual(p.ids.filter((id) => id < 49408));
    }
  });

  it('a prompt without placeholders has identical copies; tokenizer_2 pads with its own id', () => {
    const p = promptIds(table, tok2, 1, 'a photo of a cat');
    expect(p.hasPlaceholders).toBe(false);
    expect(p.ids).toEqual(tok2.tokenize77('a photo of a cat').ids);
    const lw = layerwisePromptIds(table, 1, p.ids);
    for (let l = 1; l < L; l++) expect(lw.slice(l * 77, (l + 1) * 77)).toEqual(p.ids);
  });

  it('concept prompt: BOS, all words in task order, EOS, padding (CIDM inference.py)', () => {
    const ids = conceptPromptIds(table, 1, tok2);
    expect(ids.slice(0, 10)).toEqual([49406, 49408, 49409, 49410, 49411, 49412, 49413, 49414, 49407, tok2.padId]);
    expect(ids).toHaveLength(77);
    expect(conceptPromptLayout(table, 77)).toEqual({ sequences: 1, seq: 77, places: [1, 2, 3, 4, 5, 6, 7].map((position) => ({ sequence: 0, position })) });
    // layer 3's copy of the concept prompt
    const lw = layerwisePromptIds(table, 0, conceptPromptIds(table, 0, tok1));
    expect(lw.slice(3 * 77 + 1, 3 * 77 + 8)).toEqual([0, 1, 2, 3, 4, 5, 6].map((w) => addedTokenId(table, 0, w, 3)));
  });

  it('a library past one sequence is split at task boundaries, each sequence with its own BOS', () => {
    const many = buildTokenTable(syntheticConcepts(arch, [32, 48], 50), ENC, L);
    const layout = conceptPromptLayout(many, 77);
    expect(layout.sequences).toBe(2);
    // 37 tasks (74 words) fit the first; task 38 starts the second
    expect(layout.places.slice(72, 76)).toEqual([{ sequence: 0, position: 73 }, { sequence: 0, position: 74 }, { sequence: 1, position: 1 }, { sequence: 1, position: 2 }]);
    const ids = conceptPromptIds(many, 0, tok1);
    expect(ids).toHaveLength(154);
    expect([ids[0], ids[75], ids[76], ids[77]]).toEqual([49406, 49407, tok1.padId, 49406]);
    expect(ids[77 + 1 + 26]).toBe(49407); // 13 tasks × 2 words in the second
  });

  it('refuses concepts that do not fit the model or share a word', () => {
    expect(() => buildTokenTable([a!], ENC, 16)).toThrow(/16/);
    expect(() => buildTokenTable([a!], [ENC[0]!], L)).toThrow(/token tables/);
    expect(() => buildTokenTable([a!, { ...b!, placeholders: ['<s1_2>', '<x>'] }], ENC, L)).toThrow(PlaceholderCollisionError);
    expect(() => buildTokenTable([], ENC, L)).toThrow(RangeError);
    expect(() => promptIds(table, tok1, 0, 'a dog')).not.toThrow();
  });
});
