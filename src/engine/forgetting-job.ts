/**
 * The forgetting dashboard's job (issue 11 point 6; spec §5, the paper's forgetting analysis): for every
 * task j of the library (task order) and every concept i ≤ j with a probe, concept i's mean ε-MSE on its
 * own photos, captioned with its own words, through EWA over the library as it stood after task j
 * (concepts 0..j) — the denoising-loss proxy of how well the library still knows concept i.
 *
 * The loss is the forgetting experiment's (src/cidm/forgetting/ewa-loss.ts): masked where the photo has
 * a mask and the concept was trained masked (spec §1.6), fixed (timestep, noise) draws per photo from
 * the spec's seed (the same draws in every cell, so cells differ only by the library), and EWA with the
 * library's defaults (code form, s_lora 0.8), as generation uses it, so the scores are what the person's
 * images get. The caption is the first template of the concept's choice ("a photo of a {}" for objects,
 * "a {}" for styles, or its own caption) filled with "<p1> <p2> class": one fixed caption per concept,
 * since every caption costs a fold.
 *
 * Photos are VAE-encoded once (the encoder loaded for the job and freed before the first cell, as the
 * training job does). Progress per cell; cancel is seen between cells (and between draws).
 */
import type { GpuContext } from '../gpu/context';
import { latentSize } from '../diffusion/sdxl-conditioning';
import { destroyVae } from '../model/vae/load';
import type { Concept } from '../cidm/concepts/concept';
import { EwaLibrary } from '../cidm/ewa/ewa';
import { crossAttentionLayers, loraTargets } from '../cidm/train/layers';
import { captionTemplates, conceptPhrase } from '../cidm/train/templates';
import { ewaProbeLoss, type LossProbe } from '../cidm/forgetting/ewa-loss';
import type { SdxlTrainingParts } from './sdxl-model';
import { encodePhotos, latentMasks } from './train-photos';
import type { EngineProgress, ForgettingJobSpec, ForgettingProbe, ForgettingResult } from './protocol';

export interface ForgettingJobOptions {
  signal?: AbortSignal;
  onProgress?(p: EngineProgress): void;
  /** The loaded model's id: only concepts learned on it count (without it, those whose shapes fit it). */
  modelId?: string;
}

/** (timestep, noise) draws per photo when the spec names none. */
export const FORGETTING_DEFAULT_DRAWS = 8;

/** The first template of the concept's choice, filled with its words (one caption: one fold per cell). */
export function probeCaption(c: Pick<Concept, 'placeholders' | 'classWord'>, template?: ForgettingProbe['captionTemplate']): string {
  return captionTemplates(template)[0]!.split('{}').join(conceptPhrase(c.placeholders, c.classWord));
}

/** Whether a concept's tensors fit the loaded model (layers, token widths, every attn2 LoRA's shape). */
function fitsModel(c: Concept, parts: SdxlTrainingParts): boolean {
  const m = parts.model;
  if (c.layers !== crossAttentionLayers(m.unet.arch).length) return false;
  if (c.tokenWidths.length !== m.encoders.length || c.tokenWidths.some((w, k) => w !== m.encoders[k]!.config.hiddenSize)) return false;
  const targets = loraTargets(m.unet.arch);
  return targets.length === c.lora.size && targets.every((t) => {
    const l = c.lora.get(t.module);
    return l !== undefined && l.inFeatures === t.inFeatures && l.outFeatures === t.outFeatures;
  });
}

/** The spec's plain-data checks (no GPU): known concepts, square photos at one size, draws. */
export function checkForgettingSpec(spec: ForgettingJobSpec, library: readonly Concept[]): { draws: number } {
  const draws = spec.draws ?? FORGETTING_DEFAULT_DRAWS;
  if (!Number.isInteger(draws) || draws < 1 || draws > 999) throw new RangeError(`draws per photo must be a whole number in 1..999, got ${draws}`);
  if (!Number.isInteger(spec.seed) || spec.seed < 0 || spec.seed > 0xffffffff) throw new RangeError(`the seed must be a whole number in 0..${0xffffffff}, got ${spec.seed}`);
  const seen = new Set<string>();
  for (const p of spec.probes) {
    const c = library.find((x) => x.id === p.conceptId);
    if (!c) throw new RangeError(`a forgetting probe names the concept "${p.conceptId}", which is not in the engine's library (send the library first)`);
    if (seen.has(p.conceptId)) throw new RangeError(`the concept "${c.name}" has two forgetting probes`);
    seen.add(p.conceptId);
    if (!p.photos.length) throw new RangeError(`the forgetting probe of "${c.name}" has no photos`);
    const r = p.photos[0]!.rgba.width;
    p.photos.forEach((ph, k) => {
      const { width, height, rgba } = ph.rgba;
      if (width !== r || height !== r || rgba.length !== r * r * 4) throw new RangeError(`photo ${k + 1} of "${c.name}" is ${width}×${height}; its photos must be square RGBA of one size (${r}×${r})`);
      if (ph.mask && ph.mask.length !== r * r) throw new RangeError(`the mask of photo ${k + 1} of "${c.name}" has ${ph.mask.length} values, not ${r}×${r}`);
    });
    captionTemplates(p.captionTemplate);
  }
  return { draws };
}

export async function runForgettingJob(ctx: GpuContext, parts: SdxlTrainingParts, library: readonly Concept[], spec: ForgettingJobSpec, o: ForgettingJobOptions): Promise<ForgettingResult> {
  // ---- checks without GPU work ----
  const { draws } = checkForgettingSpec(spec, library);
  const concepts = library.filter((c) => (o.modelId === undefined || c.modelId === o.modelId) && fitsModel(c, parts));
  const probeOf = new Map(spec.probes.map((p) => [p.conceptId, p]));
  const probed = concepts.flatMap((c, i) => (probeOf.has(c.id) ? [i] : []));
  const total = concepts.reduce((n, _, j) => n + probed.filter((i) => i <= j).length, 0);
  const matrix: (number | null)[][] = concepts.map(() => concepts.map(() => null));
  const result: ForgettingResult = { conceptIds: concepts.map((c) => c.id), matrix };
  const signal = o.signal;
  signal?.throwIfAborted();
  if (total === 0) return result;

  // ---- the photos: VAE encoder in, latents out, encoder freed ----
  const m = parts.model;
  const C = m.unet.arch.inChannels;
  const probes = new Map<number, LossProbe>();
  const vae = await parts.loadVaeEncoder(signal, (done, n) => o.onProgress?.({ status: 'load', component: 'vae_encoder', done, total: n }));
  try {
    for (const i of probed) {
      const c = concepts[i]!;
      const p = probeOf.get(c.id)!;
      const r = p.photos[0]!.rgba.width;
      const { h: latent } = latentSize(r, r);
      const masks = latentMasks(p.photos, c.hyper.masked, r, latent);
      const latents = await encodePhotos(ctx, vae, p.photos, { signal });
      for (const l of latents) if (l.length !== C * latent * latent) throw new RangeError(`the VAE gives ${l.length} latent values per photo of "${c.name}"; the UNet needs ${C}×${latent}×${latent}`);
      // SDXL's add_time_ids as in training (orig, crop 0, target = the training size), spec §7
      const timeIds = m.unet.arch.addition ? [r, r, 0, 0, r, r] : undefined;
      probes.set(i, {
        prompt: probeCaption(c, p.captionTemplate),
        examples: latents.map((l, k) => ({ latents: l, ...(masks[k] ? { mask: masks[k] } : {}), ...(timeIds ? { timeIds } : {}) })),
      });
    }
  } finally {
    destroyVae(ctx, vae);
  }

  // ---- the cells: one library per task j, one fold per probed concept i ≤ j ----
  let done = 0;
  o.onProgress?.({ status: 'forgetting', done, total });
  for (let j = 0; j < concepts.length; j++) {
    const rows = probed.filter((i) => i <= j);
    if (!rows.length) continue;
    signal?.throwIfAborted();
    const lib = await EwaLibrary.create(ctx, m, parts.tokenizers, concepts.slice(0, j + 1));
    try {
      for (const i of rows) {
        signal?.throwIfAborted();
        matrix[j]![i] = await ewaProbeLoss(ctx, m, lib, probes.get(i)!, parts.schedule, { draws, seed: spec.seed, signal });
        o.onProgress?.({ status: 'forgetting', done: ++done, total });
      }
    } finally {
      lib.destroy();
    }
  }
  return result;
}
