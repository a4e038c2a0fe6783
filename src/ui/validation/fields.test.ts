import { describe, expect, it } from 'vitest';
import { DEFAULT_DRAFT } from '../generate/generate-store';
import { draftErrors, generateRules, numberError, SCENE_RULES } from './fields';

describe('field validation', () => {
  const steps = generateRules(8).steps;
  it('explains empty, non-numbers, fractions and the range', () => {
    expect(numberError('', steps)).toBe('Steps needs a number.');
    expect(numberError('abc', steps)).toBe('Steps must be a number.');
    expect(numberError('2.5', steps)).toBe('Steps must be a whole number.');
    expect(numberError('0', steps)).toBe('Steps must be between 1 and 150.');
    expect(numberError('151', steps)).toBe('Steps must be between 1 and 150.');
    expect(numberError('30', steps)).toBeNull();
  });

  it('sizes must be multiples of the latent factor read from the model', () => {
    expect(numberError('1000', generateRules(8).width)).toBeNull();
    expect(numberError('1001', generateRules(8).width)).toBe("Width must be a multiple of 8 (the model's latent factor); try 1000.");
    // a VAE with fewer down blocks: factor 4
    expect(numberError('1002', generateRules(4).height)).toBe("Height must be a multiple of 4 (the model's latent factor); try 1004.");
    expect(numberError('8', generateRules(8).width)).toBe('Width must be between 16 and 2048.');
  });

  it('CFG accepts fractions; the scene settings have their ranges', () => {
    expect(numberError('7.5', generateRules(8).guidanceScale)).toBeNull();
    expect(numberError('0.5', generateRules(8).guidanceScale)).toBe('CFG must be between 1 and 30.');
    expect(numberError('1.2', SCENE_RULES.regionAlpha)).toBe('Whole-picture share must be between 0 and 1.');
  });

  it('the default draft is valid; a draft with steps 0 is not', () => {
    const rules = generateRules(8);
    expect(draftErrors({ ...DEFAULT_DRAFT }, rules)).toEqual({});
    expect(draftErrors({ ...DEFAULT_DRAFT, steps: 0, width: Number.NaN }, rules)).toEqual({ steps: 'Steps must be between 1 and 150.', width: 'Width must be a number.' });
  });
});
