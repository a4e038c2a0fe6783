/**
 * Synthetic concepts for the forgetting experiment, built so that a concept's identity dominates its
 * denoising loss and sequential tasks genuinely conflict.
 *
 * Why this shape: what the model must know to predict ε on a photo is the photo's x0 (ε = (x_t −
 * √ᾱ·x0)/√(1 − ᾱ)). A rank-4 LoRA on the cross-attention projections adds, at every position, a
 * mixture of the caption tokens' values, so what it can learn about a concept quickly is a
 * position-independent direction in channel space — the object's colour — not a texture that moves
 * from photo to photo. So each concept is a strongly coloured object: a per-channel colour of RMS
 * `amplitude` (default 2, several times the background's), a weak fixed texture (0.25) and a square a
 * half of the side wide at a different place per photo; the loss is masked to the object, so the
 * background (the same for every concept) adds nothing the concepts share.
 *
 * Concepts come in conflicting pairs: concept 2k+1 has the colour of concept 2k negated. Whatever one
 * LoRA learns for one of them it must unlearn for the other; a LoRA per concept chosen by EWA need not.
 * Each concept also has its own class word (spec §1.4: the second token starts at the class word's
 * row), as in the paper's sequence where every task has its own class words.
 */
import { NoiseStream } from '../../diffusion/rng';

export interface SyntheticPhoto {
  /** [C, n, n] */
  latents: Float32Array;
  /** [n, n], 1 on the object */
  mask: Float32Array;
}

export interface SyntheticConceptSpec {
  channels: number;
  /** Latent side n. */
  latent: number;
  photos: number;
  /** The experiment's seed: every concept of one run derives from it. */
  seed: number;
  /** RMS of the object's colour per channel (default 2). */
  amplitude?: number;
}

/** One single-token vocabulary word per concept, so the captions and token inits differ from task to task. */
export const SYNTHETIC_CLASS_WORDS = ['toy', 'mug', 'ball', 'hat', 'box', 'cup', 'car', 'bird'] as const;

export function syntheticClassWord(i: number): string {
  return SYNTHETIC_CLASS_WORDS[i % SYNTHETIC_CLASS_WORDS.length]!;
}

/** A 32-bit seed per (run seed, index). */
const mix = (seed: number, i: number) => (Math.imul(seed, 1009) + i) >>> 0;

/** The colour of concept i: pair k = ⌊i/2⌋ draws a direction of RMS `amplitude`; odd i negates it. */
export function syntheticColour(i: number, channels: number, seed: number, amplitude = 2): Float32Array {
  const rng = new NoiseStream(mix(seed, Math.floor(i / 2)), 0x0c010000);
  const v = Float32Array.from({ length: channels }, () => rng.normal());
  const rms = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / channels);
  const sign = i % 2 ? -1 : 1;
  return v.map((x) => (sign * amplitude * x) / rms);
}

/** One photo: `background` everywhere, the object (colour + texture [C, size, size]) at (oy, ox), its mask. */
function objectPhoto(C: number, n: number, size: number, colour: ArrayLike<number>, texture: ArrayLike<number>, background: ArrayLike<number>, oy: number, ox: number): SyntheticPhoto {
  const latents = new Float32Array(C * n * n);
  const mask = new Float32Array(n * n);
  for (let c = 0; c < C; c++) latents.fill(background[c]!, c * n * n, (c + 1) * n * n);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      mask[(oy + y) * n + ox + x] = 1;
      for (let c = 0; c < C; c++) latents[c * n * n + (oy + y) * n + ox + x] = colour[c]! + texture[(c * size + y) * size + x]!;
    }
  }
  return { latents, mask };
}

const objectSize = (n: number) => Math.max(2, Math.round(n / 2));
const placeOf = (rng: NoiseStream, n: number, size: number) => Math.min(n - size, Math.floor(rng.uniform() * (n - size + 1)));

/** The photos of concept i. */
export function syntheticConceptPhotos(i: number, s: SyntheticConceptSpec): SyntheticPhoto[] {
  const { channels: C, latent: n } = s;
  const colour = syntheticColour(i, C, s.seed, s.amplitude);
  const size = objectSize(n);
  const tex = new NoiseStream(mix(s.seed, i), 0x0c020000);
  const texture = Float32Array.from({ length: C * size * size }, () => 0.25 * tex.normal());
  const bg = new NoiseStream(s.seed, 0x0c030000);
  const background = Float32Array.from({ length: C }, () => 0.5 * bg.normal());
  const place = new NoiseStream(mix(s.seed, i), 0x0c040000);
  return Array.from({ length: s.photos }, () => {
    const oy = placeOf(place, n, size);
    const ox = placeOf(place, n, size);
    return objectPhoto(C, n, size, colour, texture, background, oy, ox);
  });
}

/**
 * The warm-up set (experiment.ts: the shared "pretrained base"): `photos` objects of the concepts' kind
 * (a half-side square, texture 0.25, background 0.5·N(0, 1)) but each with its own random colour of RMS
 * `amplitude`, texture, background and place, from streams no concept uses. A model that denoises these
 * knows the distribution the concepts come from, not any one concept: what is left of a concept's loss
 * after the warm-up is its identity (its colour), as with a real pretrained base and a new subject.
 */
export function syntheticWarmupPhotos(s: SyntheticConceptSpec): SyntheticPhoto[] {
  const { channels: C, latent: n } = s;
  const size = objectSize(n);
  const rng = new NoiseStream(mix(s.seed, 0x7fff), 0x0c050000);
  return Array.from({ length: s.photos }, () => {
    const v = Float32Array.from({ length: C }, () => rng.normal());
    const rms = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / C);
    const colour = v.map((x) => ((s.amplitude ?? 2) * x) / rms);
    const texture = Float32Array.from({ length: C * size * size }, () => 0.25 * rng.normal());
    const background = Float32Array.from({ length: C }, () => 0.5 * rng.normal());
    const oy = placeOf(rng, n, size);
    const ox = placeOf(rng, n, size);
    return objectPhoto(C, n, size, colour, texture, background, oy, ox);
  });
}
