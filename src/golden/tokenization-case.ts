/**
 * Golden case `tokenization` (cases/tokenization.json): every prompt through both SDXL tokenizers,
 * compared id for id with transformers' CLIPTokenizer (`input_ids` for models/tokenizer, `input_ids_2`
 * for models/tokenizer_2). Pure CPU; the case file is JSON, read here directly (GoldenCase.open only
 * reads safetensors, so the runner must not open this case through it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import type { CaseResult } from './result';

interface TokenizationPrompt {
  prompt: string;
  input_ids: number[];
  input_ids_2: number[];
}

/** Loads models/<dir>/{vocab.json, merges.txt, tokenizer_config.json} of a golden set. */
export function loadGoldenTokenizer(goldenDir: string, dir: string): ClipTokenizer {
  const read = (f: string) => readFileSync(join(goldenDir, 'models', dir, f), 'utf8');
  return ClipTokenizer.fromFiles(read('vocab.json'), read('merges.txt'), ClipTokenizer.configFromJson(read('tokenizer_config.json')));
}

/** The comparison itself, given the golden directory, the case name and its file (relative to the set). */
export function runTokenizationCase(goldenDir: string, name: string, file: string): CaseResult[] {
  const data = JSON.parse(readFileSync(join(goldenDir, file), 'utf8')) as { cases: TokenizationPrompt[] };
  const prompts = data.cases;
  const results: CaseResult[] = [];
  for (const [dir, field] of [['tokenizer', 'input_ids'], ['tokenizer_2', 'input_ids_2']] as const) {
    const tok = loadGoldenTokenizer(goldenDir, dir);
    let bad = 0;
    let first: string | undefined;
    for (const p of prompts) {
      const ids = tok.tokenize77(p.prompt).ids;
      const want = p[field];
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
