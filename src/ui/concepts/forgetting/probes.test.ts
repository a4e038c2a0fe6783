import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../../engine/protocol';
import { buildProbes, maskFromGrey, ProbeImageError, probeSize, type DecodeImage, type ProbeConcept } from './probes';

const hyper = (o: Partial<ProbeConcept['hyper']> = {}): ProbeConcept['hyper'] => ({ steps: 10, lrLora: 1e-4, lrTokens: 1e-3, rank: 4, seed: 1, resolution: 16, masked: true, gamma: 0.1, r1Form: 'code', ...o });

/** A fake decoder: the blob's text says which grey level to fill; it records the size asked for. */
function fakeDecoder(): { decode: DecodeImage; sizes: number[] } {
  const sizes: number[] = [];
  return {
    sizes,
    decode: async (blob, size) => {
      sizes.push(size);
      const text = await blob.text();
      if (text === 'broken') throw new Error('not an image');
      const level = Number(text);
      const rgba = new Uint8ClampedArray(size * size * 4);
      for (let p = 0; p < size * size; p++) rgba.set([level, level, level, 255], 4 * p);
      return { width: size, height: size, rgba } satisfies RgbaImage;
    },
  };
}

const blob = (s: string) => new Blob([s]);

describe('buildProbes', () => {
  it('decodes each concept\'s photos at its resolution, with masks for masked training, in order', async () => {
    const d = fakeDecoder();
    const concepts: ProbeConcept[] = [
      { id: 'a', name: 'A', hyper: hyper({ resolution: 16 }), trainingPhotos: [{ image: blob('10'), mask: blob('255') }, { image: blob('20'), mask: null }], captionTemplate: 'object' },
      { id: 'b', name: 'B (imported)', hyper: hyper() },
      { id: 'c', name: 'C', hyper: hyper({ resolution: 8, masked: false }), trainingPhotos: [{ image: blob('30'), mask: blob('0') }] },
    ];
    const { probes, unscored } = await buildProbes(concepts, d.decode);
    expect(unscored).toEqual(['b']);
    expect(probes.map((p) => p.conceptId)).toEqual(['a', 'c']);
    expect(probes[0]!.captionTemplate).toBe('object');
    expect(probes[1]!.captionTemplate).toBeUndefined();
    const [p0, p1] = probes[0]!.photos;
    expect(p0!.rgba.width).toBe(16);
    expect(p0!.rgba.rgba[0]).toBe(10);
    expect(Array.from(p0!.mask!)).toEqual(new Array(256).fill(1));
    expect(p1!.mask).toBeUndefined();
    // C was trained without the masked loss: its mask is not used
    expect(probes[1]!.photos[0]!.mask).toBeUndefined();
    expect(probes[1]!.photos[0]!.rgba.width).toBe(8);
    expect(d.sizes).toEqual([16, 16, 16, 8]);
  });

  it('names the concept and photo that cannot be decoded', async () => {
    const d = fakeDecoder();
    const c: ProbeConcept = { id: 'a', name: 'Rex', hyper: hyper(), trainingPhotos: [{ image: blob('1'), mask: null }, { image: blob('broken'), mask: null }] };
    const err = await buildProbes([c], d.decode).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProbeImageError);
    expect((err as Error).message).toContain('Training photo 2 of "Rex"');
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    const c: ProbeConcept = { id: 'a', name: 'Rex', hyper: hyper(), trainingPhotos: [{ image: blob('1'), mask: null }] };
    await expect(buildProbes([c], fakeDecoder().decode, ac.signal)).rejects.toThrow();
  });
});

describe('helpers', () => {
  it('a grey mask becomes 0..1 from its red channel', () => {
    const m = maskFromGrey({ width: 2, height: 1, rgba: new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 255]) });
    expect(Array.from(m)).toEqual([0, 1]);
  });
  it('scores at the training resolution, 512 when the record has none', () => {
    expect(probeSize({ hyper: hyper({ resolution: 1024 }) })).toBe(1024);
    expect(probeSize({ hyper: hyper({ resolution: 0 }) })).toBe(512);
  });
});
