import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTokenizationCase } from '../../golden/tokenization-case';
import { ClipTokenizer } from './clip-bpe';
import { cleanFtfy, cleanNfcOnly, fixText, whitespaceClean } from './text-clean';

const GOLDEN = join(__dirname, '../../../golden');
const read = (p: string) => readFileSync(join(GOLDEN, p), 'utf8');

interface TokCase {
  prompt: string;
  tokens: string[];
  ids_untruncated: number[];
  truncated: boolean;
  input_ids: number[];
  input_ids_2: number[];
  ids_untruncated_nfc_variant?: number[];
}
const golden = JSON.parse(read('cases/tokenization.json')) as { cases: TokCase[]; pad_token_id_tokenizer_2: number };

function load(dir: string, clean?: (t: string) => string): ClipTokenizer {
  const config = ClipTokenizer.configFromJson(read(`models/${dir}/tokenizer_config.json`));
  if (clean) config.clean = clean;
  return ClipTokenizer.fromFiles(read(`models/${dir}/vocab.json`), read(`models/${dir}/merges.txt`), config);
}

const tok1 = load('tokenizer');
const tok2 = load('tokenizer_2');

describe('ClipTokenizer vs transformers CLIPTokenizer (golden tokenization case)', () => {
  it('reads the two SDXL configs: same specials, different pad ids', () => {
    expect([tok1.bosId, tok1.eosId, tok1.padId, tok1.maxLength]).toEqual([49406, 49407, 49407, 77]);
    expect([tok2.bosId, tok2.eosId, tok2.padId]).toEqual([49406, 49407, golden.pad_token_id_tokenizer_2]);
  });

  it('covers 32 prompts, including truncated ones and the flagged unicode ones', () => {
    expect(golden.cases.length).toBe(32);
    expect(golden.cases.some((c) => c.truncated)).toBe(true);
    expect(golden.cases.filter((c) => c.ids_untruncated_nfc_variant).length).toBe(3);
  });

  for (const c of golden.cases) {
    it(`prompt ${JSON.stringify(c.prompt.slice(0, 60))}`, () => {
      expect(tok1.tokenize(c.prompt)).toEqual(c.tokens);
      expect([tok1.bosId, ...tok1.encode(c.prompt), tok1.eosId]).toEqual(c.ids_untruncated);
      const t1 = tok1.tokenize77(c.prompt);
      const t2 = tok2.tokenize77(c.prompt);
      expect(t1.ids).toEqual(c.input_ids);
      expect(t2.ids).toEqual(c.input_ids_2);
      expect(t1.truncated).toBe(c.truncated);
      expect(t1.length).toBe(Math.min(c.ids_untruncated.length, 77));
      expect(t1.attentionMask.reduce((a, b) => a + b, 0)).toBe(t1.length);
    });
  }

  // The flagged prompts, both ways: the default (ftfy-equivalent) cleanup gives the reference ids (checked
  // above), and the NFC-only cleanup gives the case's `ids_untruncated_nfc_variant`; every other prompt
  // is the same under both.
  const nfc = load('tokenizer', cleanNfcOnly);
  for (const c of golden.cases) {
    it(`NFC-only variant ${JSON.stringify(c.prompt.slice(0, 40))}`, () => {
      const ids = [nfc.bosId, ...nfc.encode(c.prompt), nfc.eosId];
      expect(ids).toEqual(c.ids_untruncated_nfc_variant ?? c.ids_untruncated);
    });
  }
});

describe('text cleanup', () => {
  it('collapses Python-\\s whitespace runs and strips', () => {
    expect(whitespaceClean('  a\t\u00a0b\u2028\u3000c \u001c ')).toBe('a b c');
    expect(whitespaceClean('a\u200bb')).toBe('a\u200bb'); // zero-width space is not whitespace
  });
  it('does the ftfy fixes prompts hit', () => {
    expect(fixText('\u201cq\u201d \u2018s\u2019')).toBe('"q" \'s\'');
    expect(fixText('\ufb01 \uff21\uff11')).toBe('fi A1');
    expect(fixText('&amp; &#233; &#x41; &AMP; &bogus;')).toBe('& é A & &bogus;');
    expect(fixText('<b>&amp;</b>')).toBe('<b>&amp;</b>'); // looks like real HTML: leave entities
    expect(fixText('e\u0301')).toBe('\u00e9');
    expect(cleanFtfy(' ＡＢＣ  Déjà ')).toBe('abc déjà');
  });
});

describe('special-token handling', () => {
  it('tokenizer_2 keeps its pad token "!" whole (id 0), tokenizer uses BPE "!</w>"', () => {
    expect(tok1.encode('wow!')).toEqual([tok1.encode('wow')[0], 256]);
    expect(tok2.encode('wow!')).toEqual([tok1.encode('wow')[0], 0]);
    expect(tok2.encode('!!')).toEqual([0, 0]);
  });
  it('truncates to 75 content ids and keeps EOS last', () => {
    const t = tok2.tokenize77('cat '.repeat(100));
    expect(t.ids.length).toBe(77);
    expect(t.ids[76]).toBe(49407);
    expect(t.truncated).toBe(true);
    expect(t.attentionMask.every((m) => m === 1)).toBe(true);
  });
});

describe('golden handler', () => {
  it('tokenizationCase reports PASS with 0 mismatching prompts for both tokenizers', () => {
    const r = runTokenizationCase(GOLDEN, 'tokenization', 'cases/tokenization.json');
    expect(r.map((x) => [x.name, x.status, x.maxAbs, x.maxRel, x.tol])).toEqual([
      ['tokenization/tokenizer', 'PASS', 0, 0, 0],
      ['tokenization/tokenizer_2', 'PASS', 0, 0, 0],
    ]);
  });
  it('checks the one tokenizer an SD-1.5-family set has ids for, and skips by reason a folder the set lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cidm-tok-'));
    try {
      mkdirSync(join(dir, 'models'));
      symlinkSync(join(GOLDEN, 'models', 'tokenizer'), join(dir, 'models', 'tokenizer'));
      const one = JSON.parse(read('cases/tokenization.json')) as { cases: Partial<TokCase>[] };
      for (const c of one.cases) delete c.input_ids_2;
      writeFileSync(join(dir, 'one.json'), JSON.stringify(one));
      expect(runTokenizationCase(dir, 'tok', 'one.json').map((x) => [x.name, x.status])).toEqual([['tok/tokenizer', 'PASS']]);
      writeFileSync(join(dir, 'both.json'), read('cases/tokenization.json'));
      const both = runTokenizationCase(dir, 'tok', 'both.json');
      expect(both.map((x) => x.status)).toEqual(['PASS', 'SKIP']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('reports FAIL naming the first mismatching prompt (one id altered in a copy of the case)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cidm-tok-'));
    try {
      symlinkSync(join(GOLDEN, 'models'), join(dir, 'models'));
      const bad = JSON.parse(read('cases/tokenization.json')) as { cases: TokCase[] };
      bad.cases[3]!.input_ids_2[1] = 1;
      writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
      const [r1, r2] = runTokenizationCase(dir, 'tokenization', 'bad.json');
      expect(r1!.status).toBe('PASS');
      expect(r2!.status).toBe('FAIL');
      expect([r2!.maxAbs, r2!.maxRel, r2!.tol]).toEqual([1, 1 / 32, 0]);
      expect(r2!.why).toContain(JSON.stringify(bad.cases[3]!.prompt));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
