import { describe, expect, it } from 'vitest';
import { setLoraWeight, styleLoras } from './style-strength';
import { mergeLoraTags } from '../../model/lora/prompt-tags';

describe('style strength (LoRA weight beside the image strength)', () => {
  it('lists each LoRA of the prompt once with the weight the run applies (tags of one name add up)', () => {
    expect(styleLoras('a house <lora:ink:0.5>, <lora:film:1:0.5> <lora:ink:0.25>')).toEqual([
      { name: 'ink', te: 0.75, unet: 0.75 },
      { name: 'film', te: 1, unet: 0.5 },
    ]);
    expect(styleLoras('no tags')).toEqual([]);
    expect(styleLoras('broken <lora:ink:abc>')).toEqual([]);
  });

  it('rewrites only that LoRA’s tags, and the engine then reads the new weight', () => {
    const p = setLoraWeight('a house <lora:ink:0.6>, <lora:film:1:0.5> <lyco:ink>', 'ink', 0.35);
    // the second tag of the name is dropped: two would add up (mergeLoraTags), as A1111 applies both
    expect(p).toBe('a house <lora:ink:0.35>, <lora:film:1:0.5> ');
    expect(mergeLoraTags([p])).toEqual([
      { name: 'ink', te: 0.35, unet: 0.35 },
      { name: 'film', te: 1, unet: 0.5 },
    ]);
  });
});
