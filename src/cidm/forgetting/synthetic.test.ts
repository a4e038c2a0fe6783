import { describe, expect, it } from 'vitest';
import { syntheticClassWord, syntheticColour, syntheticConceptPhotos, syntheticWarmupPhotos } from './synthetic';

describe('synthetic forgetting concepts', () => {
  const spec = { channels: 4, latent: 8, photos: 3, seed: 7 };

  it('come in conflicting pairs: concept 2k+1 has the colour of 2k negated, at RMS amplitude', () => {
    const a = syntheticColour(0, 4, 7, 2);
    const b = syntheticColour(1, 4, 7, 2);
    expect(Array.from(b)).toEqual(Array.from(a).map((v) => -v));
    expect(Math.sqrt(a.reduce((s, v) => s + v * v, 0) / 4)).toBeCloseTo(2, 5);
    const c = syntheticColour(2, 4, 7, 2);
    const cos = a.reduce((s, v, i) => s + v * c[i]!, 0) / 16;
    expect(Math.abs(cos)).toBeLessThan(0.999); // a new pair: another direction
  });

  it('photos: the object (a half-side square, its mask) in the concept colour, the background the same for every concept', () => {
    const p0 = syntheticConceptPhotos(0, spec);
    const p1 = syntheticConceptPhotos(1, spec);
    expect(p0.length).toBe(3);
    const colour = syntheticColour(0, 4, 7);
    for (const p of p0) {
      expect(p.latents.length).toBe(4 * 64);
      expect(p.mask.reduce((s, v) => s + v, 0)).toBe(16);
      let mean = 0;
      for (let q = 0; q < 64; q++) if (p.mask[q]) mean += p.latents[q]!; // channel 0 on the object
      expect(mean / 16).toBeCloseTo(colour[0]!, 0);
    }
    const bg = (p: { latents: Float32Array; mask: Float32Array }) => Array.from({ length: 4 }, (_, c) => p.latents[c * 64 + p.mask.indexOf(0)]);
    expect(bg(p1[0]!)).toEqual(bg(p0[0]!));
    expect(syntheticConceptPhotos(0, spec)).toEqual(p0); // seeded
  });

  it('gives each concept its own class word', () => {
    expect(new Set([0, 1, 2, 3].map(syntheticClassWord)).size).toBe(4);
  });

  it('warm-up photos: objects of the same kind, each its own colour at RMS amplitude, seeded', () => {
    const w = syntheticWarmupPhotos({ ...spec, photos: 6 });
    expect(w.length).toBe(6);
    const colourOf = (p: { latents: Float32Array; mask: Float32Array }) =>
      Array.from({ length: 4 }, (_, c) => {
        let s = 0;
        for (let q = 0; q < 64; q++) if (p.mask[q]) s += p.latents[c * 64 + q]!;
        return s / 16;
      });
    const colours = w.map(colourOf);
    for (const p of w) expect(p.mask.reduce((s, v) => s + v, 0)).toBe(16);
    for (const c of colours) expect(Math.sqrt(c.reduce((s, v) => s + v * v, 0) / 4)).toBeGreaterThan(1.4); // ≈ 2 (texture averages out)
    expect(new Set(colours.map((c) => c[0]!.toFixed(3))).size).toBe(6);
    expect(syntheticWarmupPhotos({ ...spec, photos: 6 })).toEqual(w);
    const concept = colourOf(syntheticConceptPhotos(0, spec)[0]!);
    expect(colours.some((c) => c.every((v, i) => Math.abs(v - concept[i]!) < 1e-3))).toBe(false);
  });
});
