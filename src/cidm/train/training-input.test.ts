import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { unetArch, type UNetConfigJson } from '../../model/unet/arch';
import { conceptCaptionIds } from './caption-ids';
import { cidmShape } from './cidm-params';
import { maskSums } from './diffusion-loss';
import { BadRankError, EmptyMaskError, PlaceholderCollisionError } from './errors';
import { layerwiseIds } from './layers';

const DIR = fileURLToPath(new URL('../../../golden/models/', import.meta.url));
const read = (p: string) => readFileSync(join(DIR, p), 'utf8');
const tok = ClipTokenizer.fromFiles(read('tokenizer/vocab.json'), read('tokenizer/merges.txt'), ClipTokenizer.configFromJson(read('tokenizer/tokenizer_config.json')));
const arch = unetArch(JSON.parse(read('unet/config.json')) as UNetConfigJson);

describe('training input is checked before any GPU work', () => {
  it('gives each placeholder word one id past the vocabulary, and the caption the golden ids', () => {
    const r = conceptCaptionIds(tok, 'a photo of <c1> <c2> dog', ['<c1>', '<c2>'], 49408);
    expect(r.ids.slice(0, 8)).toEqual([49406, 320, 1125, 539, 49408, 49409, 1929, 49407]);
    expect(r.ids).toHaveLength(77);
    expect(r.placeholderPositions).toEqual([4, 5]);
  });

  it('refuses a placeholder that is a word of the vocabulary, has a space, or is listed twice', () => {
    expect(() => conceptCaptionIds(tok, 'a photo of dog', ['dog'], 49408)).toThrow(PlaceholderCollisionError);
    expect(() => conceptCaptionIds(tok, 'a photo of x', ['<a b>'], 49408)).toThrow(PlaceholderCollisionError);
    expect(() => conceptCaptionIds(tok, 'a photo of <c1>', ['<c1>', '<c1>'], 49408)).toThrow(/listed twice/);
  });

  it('refuses rank 0, a fractional rank and a huge rank by name', () => {
    for (const r of [0, 2.5, 1000]) expect(() => cidmShape(arch, 2, r, [32, 48])).toThrow(BadRankError);
    expect(cidmShape(arch, 2, 4, [32, 48]).layers).toBe(28);
  });

  it('refuses an empty mask, naming the photo', () => {
    const m = new Float32Array(2 * 4 * 4);
    m.fill(1, 0, 16); // sample 0 has a mask, sample 1 none
    expect(() => maskSums(m, [2, 1, 4, 4])).toThrow(EmptyMaskError);
    try {
      maskSums(m, [2, 1, 4, 4]);
    } catch (e) {
      expect((e as EmptyMaskError).sample).toBe(1);
    }
  });

  it('makes L layer-wise copies, placeholder j of layer l at row l·P + j', () => {
    const ids = [49406, 49408, 49409, 49407];
    expect(layerwiseIds(ids, 49408, 2, 3)).toEqual([49406, 49408, 49409, 49407, 49406, 49410, 49411, 49407, 49406, 49412, 49413, 49407]);
  });
});
