import { describe, expect, it } from 'vitest';
import { GalleryRecordError, upgradeRecord, type GalleryRecordV1 } from './record';

describe('gallery records', () => {
  it('upgrade a v1 record to the current schema without losing a field', () => {
    const png = new Blob([new Uint8Array([1, 2, 3])]);
    const v1: GalleryRecordV1 = { v: 1, id: 'img-1', createdAt: 5, prompt: 'a cat', negative: 'dog', seed: 9, steps: 20, cfg: 6, sampler: 'euler', width: 832, height: 1216, model: 'sdxl', png };
    const r = upgradeRecord(v1);
    expect(r).toEqual({
      v: 2,
      id: 'img-1',
      createdAt: 5,
      params: { prompt: 'a cat', negativePrompt: 'dog', seed: 9, steps: 20, guidanceScale: 6, scheduler: 'euler', width: 832, height: 1216, model: 'sdxl' },
      modelId: 'sdxl',
      dtype: 'f32',
      png,
    });
    expect(upgradeRecord(r)).toBe(r);
  });
  it('refuse records of a newer studio or without an id', () => {
    expect(() => upgradeRecord({ v: 99, id: 'x' })).toThrow(GalleryRecordError);
    expect(() => upgradeRecord({ v: 2 })).toThrow(GalleryRecordError);
    expect(() => upgradeRecord(null)).toThrow(GalleryRecordError);
  });
});
