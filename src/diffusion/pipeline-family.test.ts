import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../model/errors';
import { forceZerosForEmptyPrompt, pipelineFamilyOf } from './pipeline-family';

describe('pipelineFamilyOf (configs, never names)', () => {
  it('SDXL: text_time added embedding and two encoders; SD-1.5: neither', () => {
    expect(pipelineFamilyOf({ file: 'm', additionEmbedType: 'text_time', textEncoders: 2 })).toBe('sdxl');
    expect(pipelineFamilyOf({ file: 'm', additionEmbedType: null, textEncoders: 1 })).toBe('sd15');
    expect(pipelineFamilyOf({ file: 'm', additionEmbedType: null, textEncoders: 1, className: 'StableDiffusionPipeline' })).toBe('sd15');
  });

  it('refuses parts that make no pipeline the studio runs, and a class name that contradicts them', () => {
    expect(() => pipelineFamilyOf({ file: 'm', additionEmbedType: 'text_time', textEncoders: 1 })).toThrow(ModelFileError);
    expect(() => pipelineFamilyOf({ file: 'm', additionEmbedType: null, textEncoders: 2 })).toThrow(/2 text encoder/);
    expect(() => pipelineFamilyOf({ file: 'model_index.json', additionEmbedType: null, textEncoders: 1, className: 'StableDiffusionXLPipeline' })).toThrow(/StableDiffusionXLPipeline/);
  });

  it('an absent negative: SDXL zeros by its flag (default true); SD-1.5 always encodes ""', () => {
    expect(forceZerosForEmptyPrompt('sdxl', undefined)).toBe(true);
    expect(forceZerosForEmptyPrompt('sdxl', false)).toBe(false);
    expect(forceZerosForEmptyPrompt('sd15', true)).toBe(false);
  });
});
