/** The token counter's numbers ("n/75", "n/150", tokens to be cut) on SDXL's CLIP-L tokenizer. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { countLabel, promptCount } from './prompt-count';

const GOLDEN = join(__dirname, '../../../golden');
const read = (p: string) => readFileSync(join(GOLDEN, p), 'utf8');
const tok = ClipTokenizer.fromFiles(read('models/tokenizer/vocab.json'), read('models/tokenizer/merges.txt'), ClipTokenizer.configFromJson(read('models/tokenizer/tokenizer_config.json')));
const words = (w: string, n: number) => Array.from({ length: n }, () => w).join(' ');

describe('promptCount', () => {
  it('truncate: n/75 and how many will be cut', () => {
    expect(promptCount(tok, 'a photo of a cat', 'truncate', false)).toEqual({ tokens: 5, capacity: 75, chunks: 1, dropped: 0 });
    const c = promptCount(tok, words('cat', 80), 'truncate', false);
    expect([countLabel(c), c.dropped]).toEqual(['80/75', 5]);
  });

  it('chunked: n/150 once a second chunk starts, nothing cut; emphasis brackets are not tokens', () => {
    expect(countLabel(promptCount(tok, words('cat', 80), 'chunked', false))).toBe('80/150');
    expect(promptCount(tok, words('cat', 80), 'chunked', false).dropped).toBe(0);
    expect(countLabel(promptCount(tok, '(cat:1.2) [dog]', 'chunked', true))).toBe('2/75');
    expect(countLabel(promptCount(tok, '', 'chunked', false))).toBe('0/75');
  });
});
