import { describe, expect, it } from 'vitest';
import { promptQueryAt } from '../concepts/prompt/autocomplete';
import { appendLora, insertLora, matchLoras } from './lora-autocomplete';

describe('LoRA suggestions in the prompt box', () => {
  const names = ['pixel art', 'detail', 'anime lines'];
  it('offers LoRAs only after "<", by name with or without "lora:"', () => {
    expect(matchLoras(names, { query: '', explicit: true })).toEqual(names);
    expect(matchLoras(names, { query: 'lora:pi', explicit: true })).toEqual(['pixel art']);
    expect(matchLoras(names, { query: 'li', explicit: true })).toEqual(['anime lines']);
    expect(matchLoras(names, { query: 'det', explicit: false })).toEqual([]);
  });

  it('writes the tag in place of the typed word, or at the end from the picker', () => {
    const text = 'a castle <pix, sunset';
    const q = promptQueryAt(text, 13)!;
    expect(insertLora(text, q, 'pixel art')).toEqual({ text: 'a castle <lora:pixel art:1>, sunset', caret: 27 });
    expect(appendLora('a castle  ', 'detail', 0.55)).toBe('a castle <lora:detail:0.55>');
    expect(appendLora('', 'detail', 1)).toBe('<lora:detail:1>');
  });
});
