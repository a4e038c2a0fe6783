import { describe, expect, it } from 'vitest';
import { captionTemplateOf, defaultTeachForm, effectiveSteps, isPhotoFile, parsePlaceholders, photoCountProblem, resolutionOptions, suggestPlaceholder, validateTeach, type TeachContext } from './validation';

const ctx = (o: Partial<TeachContext> = {}): TeachContext => ({ photos: 5, emptyMasks: 0, taken: new Set(), resolutions: [512, 1024], ...o });
const form = (o = {}) => ({ ...defaultTeachForm(512, 42), name: 'Rex', classWord: 'dog', placeholders: '<rex1>', ...o });

describe('Teach form rules', () => {
  it('accepts PNG, JPEG and WebP by type, or by extension when the type is empty', () => {
    expect(isPhotoFile({ name: 'a.png', type: 'image/png' })).toBe(true);
    expect(isPhotoFile({ name: 'a.jpg', type: 'image/jpeg' })).toBe(true);
    expect(isPhotoFile({ name: 'a.webp', type: '' })).toBe(true);
    expect(isPhotoFile({ name: 'a.gif', type: 'image/gif' })).toBe(false);
    expect(isPhotoFile({ name: 'notes.txt', type: 'text/plain' })).toBe(false);
  });

  it('explains fewer than 3 or more than 20 photos', () => {
    expect(photoCountProblem(0)).toMatch(/Add 3 to 20/);
    expect(photoCountProblem(2)).toMatch(/at least 1 more/);
    expect(photoCountProblem(3)).toBeNull();
    expect(photoCountProblem(20)).toBeNull();
    expect(photoCountProblem(23)).toMatch(/remove 3/);
  });

  it('suggests a new placeholder from the name, skipping the taken ones', () => {
    expect(suggestPlaceholder('Rex the dog', new Set())).toBe('<rex1>');
    expect(suggestPlaceholder('Rex', new Set(['<rex1>', '<rex2>']))).toBe('<rex3>');
    expect(suggestPlaceholder('  ', new Set())).toBe('<concept1>');
    expect(suggestPlaceholder('Café Mug', new Set())).toBe('<cafe1>');
    expect(parsePlaceholders(' <a1>, <a2>  <a3>')).toEqual(['<a1>', '<a2>', '<a3>']);
  });

  it('a valid form has no problems; each field says its own', () => {
    expect(validateTeach(form(), ctx())).toEqual({});
    const e = validateTeach(form({ name: ' ', classWord: '', placeholders: '', resolution: 768, steps: 0, lrLora: 0, rank: 1.5, seed: -1, checkpointEvery: 0, previewEvery: -1 }), ctx({ photos: 2 }));
    expect(Object.keys(e).sort()).toEqual(['checkpointEvery', 'classWord', 'lrLora', 'name', 'photos', 'placeholders', 'previewEvery', 'rank', 'resolution', 'seed', 'steps'].sort());
    expect(e.resolution).toMatch(/512, 1024/);
  });

  it('refuses duplicate, taken and class-word placeholders, and a custom caption without {}', () => {
    expect(validateTeach(form({ placeholders: '<a> <a>' }), ctx()).placeholders).toMatch(/twice/);
    expect(validateTeach(form(), ctx({ taken: new Set(['<rex1>']) })).placeholders).toMatch(/already names a concept/);
    expect(validateTeach(form({ placeholders: 'dog' }), ctx()).placeholders).toMatch(/class word/);
    expect(validateTeach(form({ captionKind: 'custom', customCaption: 'a photo' }), ctx()).caption).toMatch(/\{\}/);
    expect(validateTeach(form({ masked: true }), ctx({ emptyMasks: 1 })).masks).toMatch(/nothing painted/);
    expect(validateTeach(form({ masked: false }), ctx({ emptyMasks: 1 })).masks).toBeUndefined();
  });

  it('steps default from the number of photos; caption template choice', () => {
    expect(effectiveSteps({ steps: null }, 5)).toBe(500);
    expect(effectiveSteps({ steps: null }, 1)).toBe(200);
    expect(effectiveSteps({ steps: 7 }, 5)).toBe(7);
    expect(captionTemplateOf({ captionKind: 'style', customCaption: 'x {}' })).toBe('style');
    expect(captionTemplateOf({ captionKind: 'custom', customCaption: 'x {}' })).toBe('x {}');
  });

  it('training sizes come from the model: SDXL 512 and 1024, a small model every halving to its grid', () => {
    expect(resolutionOptions({ native: 1024, grid: 32 })).toEqual({ options: [512, 1024], preferred: 512 });
    expect(resolutionOptions({ native: 512, grid: 64 })).toEqual({ options: [64, 128, 256, 512], preferred: 512 });
    expect(resolutionOptions({ native: 256, grid: 32 })).toEqual({ options: [32, 64, 128, 256], preferred: 128 });
  });
});
