import { describe, expect, it } from 'vitest';
import { captionTemplates, conceptPhrase, OBJECT_TEMPLATES, STYLE_TEMPLATES, trainingCaptions } from './templates';

describe('caption templates (spec §1.5, CIDM EnhanceText)', () => {
  it('has CIDM\'s 27 object and 16 style templates, each with one slot', () => {
    expect(OBJECT_TEMPLATES).toHaveLength(27);
    expect(STYLE_TEMPLATES).toHaveLength(16);
    for (const t of [...OBJECT_TEMPLATES, ...STYLE_TEMPLATES]) expect(t.split('{}')).toHaveLength(2);
    expect(OBJECT_TEMPLATES[0]).toBe('a photo of a {}');
    expect(STYLE_TEMPLATES).toContain('a cool painting {}');
  });

  it('fills the slot with "<p1> <p2> class"', () => {
    expect(conceptPhrase(['<dog1>', '<dog2>'], ' dog ')).toBe('<dog1> <dog2> dog');
    const caps = trainingCaptions(undefined, ['<x1>', '<x2>'], 'toy');
    expect(caps).toHaveLength(27);
    expect(caps[0]).toBe('a photo of a <x1> <x2> toy');
    expect(trainingCaptions('style', ['<s1>'], 'painting')[6]).toBe('a cool painting <s1> painting');
  });

  it('takes a custom caption with {} and refuses one without', () => {
    expect(trainingCaptions('{} on a beach, {} again', ['<a>'], 'cat')).toEqual(['<a> cat on a beach, <a> cat again']);
    expect(captionTemplates('my {}')).toEqual(['my {}']);
    expect(() => captionTemplates('no slot here')).toThrow(RangeError);
  });
});
