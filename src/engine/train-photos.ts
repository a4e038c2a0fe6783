/**
 * A training job's data (spec §1.4–1.6, §9.1): the photos as VAE latents, their masks at latent
 * resolution, the captions as token ids, and the class words' embedding rows for the token init.
 *
 * Latents are the posterior MEAN × scaling_factor. diffusers' training scripts (and CIDM) draw
 * latent_dist.sample() every step; the mean makes a photo's latents one fixed tensor, so a run is a
 * function of (photos, seed) alone and a resumed run needs no stored VAE noise. The posterior's std is
 * small next to the training noise ε, so the two differ little.
 *
 * One TrainingExample per (photo, template): the trainer draws an example uniformly per step from
 * (seed, step), which is a uniform photo and a uniform template, as CIDM's random.choice of a template
 * per sample, and stays resumable.
 */
import type { GpuContext } from '../gpu/context';
import { embedding } from '../ops/embedding';
import type { LoadedTextEncoder } from '../model/text-encoder/load';
import type { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import { rgba8ToImage, scaled, type HostTensor } from '../model/vae/image';
import type { LoadedVae } from '../model/vae/load';
import { vaeEncodeAuto } from '../model/vae/tiled';
import { normalizeMask, resampleMask } from '../cidm/regional/masks';
import { conceptCaptionIds } from '../cidm/train/caption-ids';
import { EmptyMaskError } from '../cidm/train/errors';
import { trainingCaptions, type CaptionTemplate } from '../cidm/train/templates';
import type { TrainingExample } from '../cidm/train/trainer';
import type { RgbaImage, TrainPhoto } from './protocol';

/** RGBA8 photo → [1, 3, H, W] in [-1, 1] (alpha is ignored: the mask says what counts). */
export function photoToImage(img: RgbaImage): HostTensor {
  return rgba8ToImage(img.rgba, img.width, img.height);
}

/** A [0, 1] mask of size×size → latent×latent by area average (each latent cell is the mean of its pixels). */
export function maskToLatent(mask: Float32Array, size: number, latent: number): Float32Array {
  const m = normalizeMask({ data: mask, height: size, width: size });
  return resampleMask(m, size, size, latent, latent, { h: latent, w: latent, stride: 1 });
}

/** The loss masks of the photos at latent resolution (undefined: plain loss); EmptyMaskError for an empty one. */
export function latentMasks(photos: readonly TrainPhoto[], masked: boolean, size: number, latent: number): (Float32Array | undefined)[] {
  return photos.map((p, i) => {
    if (!masked || !p.mask) return undefined;
    const m = maskToLatent(p.mask, size, latent);
    if (!m.some((v) => v > 0)) throw new EmptyMaskError(i, `photo ${i + 1} of ${photos.length} has nothing painted`);
    return m;
  });
}

export interface EncodePhotosOptions {
  signal?: AbortSignal;
}

/** VAE latents of every photo: posterior mean × the VAE's scaling factor, [C, h, w] each. */
export async function encodePhotos(ctx: GpuContext, vae: LoadedVae, photos: readonly TrainPhoto[], o: EncodePhotosOptions = {}): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const p of photos) {
    o.signal?.throwIfAborted();
    const enc = await vaeEncodeAuto(ctx, vae, photoToImage(p.rgba), { signal: o.signal });
    out.push(scaled(enc.posterior.mean, vae.arch.scalingFactor));
  }
  return out;
}

export interface ExampleSpec {
  placeholders: readonly string[];
  classWord: string;
  template?: CaptionTemplate;
  /** Square training size in pixels (SDXL's micro-conditioning). */
  resolution: number;
  /** Whether the UNet takes SDXL's time ids. */
  timeIds: boolean;
}

/** Caption ids per template, per text encoder (placeholder j as vocab_size + j). */
export function captionIds(tokenizers: readonly ClipTokenizer[], encoders: readonly LoadedTextEncoder[], s: ExampleSpec): number[][][] {
  return trainingCaptions(s.template, s.placeholders, s.classWord).map((caption) =>
    encoders.map((te, k) => conceptCaptionIds(tokenizers[k]!, caption, s.placeholders, te.config.vocabSize).ids),
  );
}

/** One example per (photo, template); latents and masks are shared, not copied. */
export function buildExamples(latents: readonly Float32Array[], masks: readonly (Float32Array | undefined)[], ids: readonly number[][][], s: ExampleSpec): TrainingExample[] {
  const r = s.resolution;
  // SDXL's add_time_ids (orig_h, orig_w, crop_top, crop_left, target_h, target_w), spec §7
  const timeIds = s.timeIds ? [r, r, 0, 0, r, r] : undefined;
  return latents.flatMap((l, i) =>
    ids.map((perEncoder) => ({ latents: l, ...(masks[i] ? { mask: masks[i] } : {}), ids: perEncoder, ...(timeIds ? { timeIds } : {}) })),
  );
}

/**
 * Class-word rows for the token init (spec §1.4): per text encoder, one entry per placeholder word:
 * null for the first (random N(0, σ²)), else the token-embedding row of class word j − 1's first BPE
 * id (the last class word for any further placeholder): "<duck1> <duck2> <duck3>" with "duck toy"
 * gives random, duck, toy, as CIDM's initializer tokens. Read from the GPU table (f16 rows as stored).
 */
export async function classTokenRows(ctx: GpuContext, encoders: readonly LoadedTextEncoder[], tokenizers: readonly ClipTokenizer[], classWord: string, placeholders: number): Promise<(Float32Array | null)[][]> {
  const words = classWord.trim().split(/\s+/).filter((w) => w.length > 0);
  if (!words.length) throw new RangeError('the concept needs a class word (e.g. "dog")');
  const out: (Float32Array | null)[][] = [];
  for (const [k, te] of encoders.entries()) {
    const rows = new Map<string, Float32Array>();
    for (const w of words) {
      const id = tokenizers[k]!.encode(w)[0];
      if (id === undefined) throw new RangeError(`the class word "${w}" gives no token`);
      const t = await embedding(ctx, [id], te.tokenBlocks, { label: `class row ${w}` });
      rows.set(w, await ctx.read(t));
      ctx.release(t);
    }
    out.push(Array.from({ length: placeholders }, (_, j) => (j === 0 ? null : rows.get(words[Math.min(j - 1, words.length - 1)]!)!)));
  }
  return out;
}
