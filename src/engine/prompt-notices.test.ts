/**
 * Truncation notices (prompt-notices.ts) on SDXL's real CLIP-L tokenizer (golden vocab/merges): which
 * prompts a run cuts, how many tokens and which words, in each prompt mode.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import { describeTruncation, effectivePromptMode, truncationNotices } from './prompt-notices';

const GOLDEN = join(__dirname, '../../golden');
const read = (p: string) => readFileSync(join(GOLDEN, p), 'utf8');
const tok = ClipTokenizer.fromFiles(read('models/tokenizer/vocab.json'), read('models/tokenizer/merges.txt'), ClipTokenizer.configFromJson(read('models/tokenizer/tokenizer_config.json')));
const words = (w: string, n: number) => Array.from({ length: n }, () => w).join(' ');
const LONG = `${words('cat', 75)} on a red sofa`; // 79 tokens: "on a red sofa" is cut
const mask = new Float32Array(4) as Float32Array<ArrayBuffer>;

describe('truncation notices', () => {
  it('truncate mode: the prompt and the negative prompt, with the dropped words', () => {
    const n = truncationNotices(tok, { prompt: LONG, negativePrompt: `${words('blurry', 76)} ugly` }, 'truncate');
    expect(n).toEqual([
      { field: 'prompt', tokens: 79, kept: 75, droppedText: 'on a red sofa' },
      { field: 'negative prompt', tokens: 77, kept: 75, droppedText: 'blurry ugly' },
    ]);
    expect(describeTruncation(n[0]!)).toBe('The prompt has 79 tokens; only 75 fit, so the last 4 were dropped: “on a red sofa”.');
  });

  it('nothing for prompts that fit, and nothing for the main prompts in chunked mode', () => {
    expect(truncationNotices(tok, { prompt: words('cat', 75), negativePrompt: '' }, 'truncate')).toEqual([]);
    expect(truncationNotices(tok, { prompt: LONG, negativePrompt: LONG }, 'chunked')).toEqual([]);
  });

  it('region prompts are always one sequence: named by the region', () => {
    const regions = [
      { name: 'dog', prompt: 'a dog', negativePrompt: '', mask },
      { prompt: LONG, negativePrompt: '', mask },
    ];
    expect(truncationNotices(tok, { prompt: 'a park', negativePrompt: '', regions }, 'truncate')).toEqual([{ field: 'region 2 prompt', tokens: 79, kept: 75, droppedText: 'on a red sofa' }]);
  });

  it('chunked mode only on the plain loop', () => {
    expect(effectivePromptMode('chunked', true)).toBe('chunked');
    expect(effectivePromptMode('chunked', false)).toBe('truncate');
    expect(effectivePromptMode(undefined, true)).toBe('truncate');
  });
});
