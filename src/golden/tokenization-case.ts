/**
 * Tokenizer golden cases (a JSON file of prompts and ids, e.g. cases/tokenization.json): every prompt
 * through each tokenizer the file has ids for, compared id for id with transformers' CLIPTokenizer
 * (`input_ids` for models/tokenizer, `input_ids_2` for models/tokenizer_2; tokenizerFields). Pure CPU; the case file is JSON, read here directly (GoldenCase.open only
 * reads safetensors, so the runner must not open this case through it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import type { CaseResult } from './result';

interface TokenizationPrompt {
  prompt: string;
  [field: string]: unknown;
}

interface TokenizationFile {
  cases: TokenizationPrompt[];
  /** e.g. ['models/tokenizer/vocab.json', …]: where the set keeps its tokenizers. */
  vocab_files?: string[];
  /** What each field holds, e.g. input_ids_2: '77 ids for text_encoder_2 (tokenizer_2, pad 0)'. */
  fields?: Record<string, string>;
}

/** Loads <root>/<dir>/{vocab.json, merges.txt, tokenizer_config.json} of a golden set (root: 'models'). */
export function loadGoldenTokenizer(goldenDir: string, dir: string, root = 'models'): ClipTokenizer {
  const read = (f: string) => readFileSync(join(goldenDir, root, dir, f), 'utf8');
  return ClipTokenizer.fromFiles(read('vocab.json'), read('merges.txt'), ClipTokenizer.configFromJson(read('tokenizer_config.json')));
}

/**
 * Which tokenizer folder each id field is for: the folder its `fields` description names
 * ("(tokenizer_2, pad 0)"), else input_ids → tokenizer and input_ids_<k> → tokenizer_<k>.
 */
export function tokenizerFields(data: TokenizationFile): { field: string; dir: string }[] {
  const first = data.cases[0] ?? { prompt: '' };
  return Object.keys(first)
    .map((field) => ({ field, m: /^input_ids(?:_(\d+))?$/.exec(field) }))
    .filter((x) => x.m)
    .map(({ field, m }) => ({ field, dir: /\((tokenizer(?:_\d+)?)\b/.exec(data.fields?.[field] ?? '')?.[1] ?? (m![1] ? `tokenizer_${m![1]}` : 'tokenizer') }));
}

/** The comparison itself, given the golden directory, the case name and its file (relative to the set). */
export function runTokenizationCase(goldenDir: string, name: string, file: string): CaseResult[] {
  const data = JSON.parse(readFileSync(join(goldenDir, file), 'utf8')) as TokenizationFile;
  const prompts = data.cases;
  const root = data.vocab_files?.[0] ? dirname(dirname(data.vocab_files[0])) : 'models';
  const results: CaseResult[] = [];
  for (const { field, dir } of tokenizerFields(data)) {
    if (!existsSync(join(goldenDir, root, dir, 'vocab.json'))) {
      results.push({ name: `${name}/${dir}`, status: 'SKIP', why: `no tokenizer folder ${root}/${dir} for ${field}` });
      continue;
    }
    const tok = loadGoldenTokenizer(goldenDir, dir, root);
    let bad = 0;
    let first: string | undefined;
    for (const p of prompts) {
      const ids = tok.tokenize77(p.prompt).ids;
      const want = p[field] as number[];
      if (ids.length !== want.length || ids.some((v, i) => v !== want[i])) {
        bad++;
        first ??= p.prompt;
      }
    }
    const r: CaseResult = { name: `${name}/${dir}`, status: bad === 0 ? 'PASS' : 'FAIL', maxAbs: bad, maxRel: bad / Math.max(prompts.length, 1), tol: 0 };
    if (first !== undefined) r.why = `${bad}/${prompts.length} prompts differ, first: ${JSON.stringify(first)}`;
    results.push(r);
  }
  return results;
}

/** Runner handler shape `(env, c) => Promise<CaseResult[]>`; uses only env.dir, c.name and c.entry.file. */
export async function tokenizationCase(
  env: { readonly dir: string },
  c: { readonly name: string; readonly entry: { readonly file: string } },
): Promise<CaseResult[]> {
  return runTokenizationCase(env.dir, c.name, c.entry.file);
}
