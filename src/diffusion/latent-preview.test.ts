import { describe, expect, it } from 'vitest';
import { latentPreview, latentRgbFitFor } from './latent-preview';

/** One pixel's latent [4] through a family's fit, as the preview's byte values. */
function pixel(latent: [number, number, number, number], family: 'sdxl' | 'sd15'): number[] {
  const img = latentPreview(Float32Array.from(latent), 1, 1, latentRgbFitFor(family));
  return [...img.rgba];
}

describe('latent preview', () => {
  it('maps each latent channel through its family\'s fit: rgb = bias + Σ latent·row, [-1, 1] → bytes', () => {
    // SD-1.5's fourth channel is its strong blue–yellow axis (ComfyUI latent_formats.SD15)
    const v = [-0.212, -0.2616, -0.7177].map((x) => Math.round(((x + 1) / 2) * 255));
    expect(pixel([0, 0, 0, 1], 'sd15')).toEqual([...v, 255]);
    // SDXL's fit has a bias: a zero latent is not mid-grey
    const b = [0.1084, -0.0175, -0.0011].map((x) => Math.round(((x + 1) / 2) * 255));
    expect(pixel([0, 0, 0, 0], 'sdxl')).toEqual([...b, 255]);
  });
  it('gives the two families different colours for the same latent', () => {
    expect(pixel([0.5, -0.3, 0.2, 0.8], 'sd15')).not.toEqual(pixel([0.5, -0.3, 0.2, 0.8], 'sdxl'));
  });
  it('refuses too few values', () => {
    expect(() => latentPreview(new Float32Array(3), 1, 1)).toThrow(RangeError);
  });
});
