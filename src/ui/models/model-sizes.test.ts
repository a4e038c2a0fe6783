import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { modelSizesOf } from './model-sizes';

const json = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

describe('model sizes from configs', () => {
  it('the tiny golden SDXL: 32 × 8 = 256 native, grid 8 × 4 = 32', () => {
    expect(modelSizesOf(json('golden/models/unet/config.json'), json('golden/models/vae/config.json'))).toEqual({ native: 256, grid: 32 });
  });
  it('a single-file checkpoint without configs: its kind\'s standard sizes', () => {
    expect(modelSizesOf(null, null, 'sdxl')).toEqual({ native: 1024, grid: 32 });
    expect(modelSizesOf(null, null, 'sd15')).toEqual({ native: 512, grid: 64 });
  });
});
