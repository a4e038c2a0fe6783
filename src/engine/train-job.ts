/**
 * Concept training as a job of the engine (spec §9.1): a TrainJobSpec in, progress per step, a
 * checkpoint every `checkpointEvery` steps and at the end, a Concept out. Built on the learning engine
 * (src/cidm/train: CidmTrainer, createCidmParams, the CIDM init) over the loaded model's resident
 * weights; only the VAE encoder is loaded for the job, used for the photos, and freed before the
 * first step.
 *
 * Every check that needs no GPU runs first (placeholders, sizes, masks, rank, the resume checkpoint),
 * so a bad request fails before any GPU work. Cancel is seen between steps: the job emits a checkpoint
 * of the last completed step if it has not already, then throws the AbortError. Pause is that cancel;
 * resume is a new train request with `resume` set: params and AdamW moments are written back and the
 * trainer restored, and since every draw of step k comes from (seed, k), the resumed run ends on the
 * same tensors as an uninterrupted one.
 *
 * Previews (previewEvery > 0): after every previewEvery-th step and the last one, an image of the
 * concept as learned so far (train-preview.ts), sampled through the loaded model's sampling parts; it
 * only reads the params, so the run is the same with or without previews, and a cancel skips it.
 */
import type { GpuContext } from '../gpu/context';
import { NoiseStream } from '../diffusion/rng';
import { latentSize } from '../diffusion/sdxl-conditioning';
import { destroyVae } from '../model/vae/load';
import type { Concept, ConceptLora } from '../cidm/concepts/concept';
import { checkPlaceholders } from '../cidm/train/caption-ids';
import { cidmShape, createCidmParams, destroyCidmParams, downName, loraSpecs, tokenName, tokenSpecs, upName, type CidmParams, type CidmShape } from '../cidm/train/cidm-params';
import type { CidmModel } from '../cidm/train/cidm-step';
import { FlatLayout, type FlatParams } from '../cidm/train/flat-params';
import { cidmTokenSigma, initConceptTokens, initLoraDown, initLoraUp } from '../cidm/train/lora-init';
import { captionTemplates } from '../cidm/train/templates';
import { CidmTrainer } from '../cidm/train/trainer';
import type { SdxlTrainingParts } from './sdxl-model';
import type { SdxlPipelineParts } from '../diffusion/text-to-image';
import { PREVIEW_DEFAULTS, previewPromptOf, previewsDue, trainPreview } from './train-preview';
import { buildExamples, captionIds, classTokenRows, encodePhotos, latentMasks, type ExampleSpec } from './train-photos';
import type { EngineProgress, TrainCheckpoint, TrainFlatState, TrainJobSpec, TrainOldTask, TrainResult } from './protocol';

/** spec §1.6: AdamW lrs, rank 4; a checkpoint every 50 steps. */
export const TRAIN_DEFAULTS = { rank: 4, lrLora: 1e-4, lrTokens: 1e-3, checkpointEvery: 50 } as const;
/** CIDM's consolidation weight γ and R1 form (spec §2.2, the released code). */
const GAMMA = 0.1;
const R1_FORM = 'code' as const;

/**
 * Steps for a concept of `photos` photos. CIDM runs n_images·enlarge_ratio/(batch·2 GPUs) steps,
 * 500–1200 for 4–7 photos (mean ≈ 800, spec §1.6). Here one batch-1 run: 100 per photo, clamped to
 * [200, 1000] for SDXL (a single photo still gets enough steps, many photos no more than ~1000).
 */
export function defaultTrainSteps(photos: number): number {
  if (!Number.isInteger(photos) || photos < 1) throw new RangeError(`training needs at least one photo, got ${photos}`);
  return Math.min(1000, Math.max(200, 100 * photos));
}

export interface ResolvedTrainSpec {
  steps: number;
  rank: number;
  lrLora: number;
  lrTokens: number;
  checkpointEvery: number;
  /** A 'train-preview' every this many steps (0: none) and at the end, sampled in previewSteps steps. */
  previewEvery: number;
  previewSteps: number;
  /** Latent side (resolution / 8). */
  latent: number;
}

const positiveInt = (v: number, what: string) => {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive whole number, got ${v}`);
  return v;
};
const positive = (v: number, what: string) => {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${what} must be a positive number, got ${v}`);
  return v;
};

/** The spec's defaults filled in and its plain-data checks (no model, no GPU). */
export function resolveTrainSpec(spec: TrainJobSpec): ResolvedTrainSpec {
  if (!spec.jobId) throw new RangeError('a training job needs an id');
  if (!spec.placeholders.length) throw new RangeError('a concept needs at least one placeholder word');
  if (!spec.classWord.trim()) throw new RangeError('the concept needs a class word (e.g. "dog")');
  if (!spec.photos.length) throw new RangeError('training needs at least one photo');
  positiveInt(spec.taskIndex, 'the task index');
  const r = spec.resolution;
  const { h: latent } = latentSize(r, r);
  spec.photos.forEach((p, i) => {
    const { width, height, rgba } = p.rgba;
    if (width !== r || height !== r || rgba.length !== r * r * 4) throw new RangeError(`photo ${i + 1} is ${width}×${height}; training at ${r} needs ${r}×${r} RGBA photos`);
    if (p.mask && p.mask.length !== r * r) throw new RangeError(`the mask of photo ${i + 1} has ${p.mask.length} values, not ${r}×${r}`);
  });
  captionTemplates(spec.captionTemplate);
  const steps = positiveInt(spec.steps ?? spec.resume?.steps ?? defaultTrainSteps(spec.photos.length), 'steps');
  const c = spec.resume;
  if (c) {
    if (c.jobId !== spec.jobId) throw new RangeError(`the checkpoint belongs to job "${c.jobId}", not "${spec.jobId}"`);
    if (!Number.isInteger(c.step) || c.step < 0 || c.step > steps) throw new RangeError(`the checkpoint is at step ${c.step}, outside 0..${steps}`);
  }
  return {
    steps,
    rank: spec.rank ?? TRAIN_DEFAULTS.rank,
    lrLora: positive(spec.lrLora ?? TRAIN_DEFAULTS.lrLora, 'the LoRA learning rate'),
    lrTokens: positive(spec.lrTokens ?? TRAIN_DEFAULTS.lrTokens, 'the token learning rate'),
    checkpointEvery: positiveInt(spec.checkpointEvery ?? TRAIN_DEFAULTS.checkpointEvery, 'checkpointEvery'),
    previewEvery: spec.previewEvery ? positiveInt(spec.previewEvery, 'previewEvery') : 0,
    previewSteps: positiveInt(spec.previewSteps ?? PREVIEW_DEFAULTS.steps, 'previewSteps'),
    latent,
  };
}

/** An earlier concept as the consolidation loss reads it: its ups by module name. */
export function oldTaskOf(c: Pick<Concept, 'lora'>): TrainOldTask {
  return new Map([...c.lora].map(([module, l]) => [module, l.up]));
}

/** CIDM's init (spec §1.3–1.4): down Kaiming-uniform, up 0; token 0 ~ N(0, σ_task²), the others class rows. */
async function initConceptParams(ctx: GpuContext, m: CidmModel, p: CidmParams, seed: number, task: number, classRows: readonly (Float32Array | null)[][]): Promise<void> {
  const rng = new NoiseStream(seed, 11);
  for (const t of p.shape.targets) {
    p.lora.write(ctx, 'param', downName(t.module), initLoraDown(rng, p.shape.rank, t.inFeatures));
    p.lora.write(ctx, 'param', upName(t.module), initLoraUp(t.outFeatures, p.shape.rank));
  }
  const sigma = cidmTokenSigma(task);
  m.encoders.forEach((te, k) => {
    p.tokens.write(ctx, 'param', tokenName(k), initConceptTokens(rng, { layers: p.shape.layers, dim: te.config.hiddenSize, sigma, words: classRows[k]! }));
  });
  await p.lora.resetMoments(ctx);
  await p.tokens.resetMoments(ctx);
}

async function readState(ctx: GpuContext, g: FlatParams): Promise<TrainFlatState> {
  return { param: await g.read(ctx, 'param'), expAvg: await g.read(ctx, 'expAvg'), expAvgSq: await g.read(ctx, 'expAvgSq') };
}

function checkState(s: TrainFlatState, size: number, what: string): void {
  for (const [slot, a] of Object.entries(s)) {
    if (a.length !== size) throw new RangeError(`the checkpoint's ${what} ${slot} has ${a.length} values, this model and rank need ${size}`);
  }
}

function writeState(ctx: GpuContext, g: FlatParams, s: TrainFlatState): void {
  ctx.write(g.flat('param'), s.param);
  ctx.write(g.flat('expAvg'), s.expAvg);
  ctx.write(g.flat('expAvgSq'), s.expAvgSq);
}

/** The finished concept: tensors read back once per group and cut per tensor (each its own buffer). */
async function conceptOf(ctx: GpuContext, p: CidmParams, shape: CidmShape, spec: TrainJobSpec, r: ResolvedTrainSpec, modelId: string): Promise<Concept> {
  const loraFlat = await p.lora.read(ctx, 'param');
  const tokFlat = await p.tokens.read(ctx, 'param');
  const cut = (flat: Float32Array, g: FlatParams, name: string) => {
    const e = g.layout.entry(name);
    return flat.slice(e.offset, e.offset + e.numel);
  };
  const lora = new Map<string, ConceptLora>();
  for (const t of shape.targets) {
    lora.set(t.module, { down: cut(loraFlat, p.lora, downName(t.module)), up: cut(loraFlat, p.lora, upName(t.module)), inFeatures: t.inFeatures, outFeatures: t.outFeatures });
  }
  return {
    id: spec.jobId,
    name: spec.name,
    classWord: spec.classWord,
    placeholders: [...spec.placeholders],
    taskIndex: spec.taskIndex,
    layers: shape.layers,
    rank: shape.rank,
    tokens: shape.hidden.map((_, k) => cut(tokFlat, p.tokens, tokenName(k))),
    tokenWidths: [...shape.hidden],
    lora,
    hyper: { steps: r.steps, lrLora: r.lrLora, lrTokens: r.lrTokens, rank: shape.rank, seed: spec.seed, resolution: spec.resolution, masked: spec.masked, gamma: GAMMA, r1Form: R1_FORM },
    modelId,
    createdAt: Date.now(),
  };
}

export interface TrainJobOptions {
  /** The loaded model's id (stored in the concept). */
  modelId: string;
  /** The loaded model's sampling parts (LoadedSdxlModel.parts): needed for previews (previewEvery > 0). */
  sampling?: SdxlPipelineParts;
  signal?: AbortSignal;
  onProgress?(p: EngineProgress): void;
}

export async function runTrainJob(ctx: GpuContext, parts: SdxlTrainingParts, spec: TrainJobSpec, o: TrainJobOptions): Promise<TrainResult> {
  // ---- checks without GPU work ----
  const r = resolveTrainSpec(spec);
  const m = parts.model;
  for (const tok of parts.tokenizers) checkPlaceholders(tok, spec.placeholders);
  const sampling = o.sampling;
  if (r.previewEvery && !sampling) throw new RangeError('training previews need the loaded model\'s sampling parts (TrainJobOptions.sampling)');
  const shape = cidmShape(m.unet.arch, spec.placeholders.length, r.rank, m.encoders.map((te) => te.config.hiddenSize));
  if (spec.resume) {
    checkState(spec.resume.lora, new FlatLayout(loraSpecs(shape)).size, 'LoRA');
    checkState(spec.resume.tokens, new FlatLayout(tokenSpecs(shape)).size, 'tokens');
  }
  const masks = latentMasks(spec.photos, spec.masked, spec.resolution, r.latent);
  const ex: ExampleSpec = { placeholders: spec.placeholders, classWord: spec.classWord, resolution: spec.resolution, timeIds: m.unet.arch.addition !== null, ...(spec.captionTemplate ? { template: spec.captionTemplate } : {}) };
  const ids = captionIds(parts.tokenizers, m.encoders, ex);
  const oldTasks = (spec.oldTasks ?? []).map((t) => new Map([...t].map(([module, up]) => [upName(module), up])));
  const signal = o.signal;
  signal?.throwIfAborted();

  // ---- the photos: VAE encoder in, latents out, encoder freed ----
  const t0 = performance.now();
  const C = m.unet.arch.inChannels;
  const vae = await parts.loadVaeEncoder(signal, (done, total) => o.onProgress?.({ status: 'load', component: 'vae_encoder', done, total }));
  let latents: Float32Array[];
  try {
    latents = await encodePhotos(ctx, vae, spec.photos, { signal });
  } finally {
    destroyVae(ctx, vae);
  }
  for (const l of latents) if (l.length !== C * r.latent * r.latent) throw new RangeError(`the VAE gives ${l.length} latent values per photo; the UNet needs ${C}×${r.latent}×${r.latent}`);
  const examples = buildExamples(latents, masks, ids, ex);

  const params = createCidmParams(ctx, shape);
  let trainer: CidmTrainer | null = null;
  try {
    if (spec.resume) {
      writeState(ctx, params.lora, spec.resume.lora);
      writeState(ctx, params.tokens, spec.resume.tokens);
    } else {
      const rows = await classTokenRows(ctx, m.encoders, parts.tokenizers, spec.classWord, spec.placeholders.length);
      await initConceptParams(ctx, m, params, spec.seed, spec.taskIndex, rows);
    }
    trainer = new CidmTrainer(ctx, m, params, oldTasks, examples, {
      steps: r.steps, seed: spec.seed, lrLora: r.lrLora, lrTokens: r.lrTokens, gamma: GAMMA, r1Form: R1_FORM,
      latentShape: [C, r.latent, r.latent], schedule: parts.schedule,
    });
    if (spec.resume) trainer.restore(spec.resume.trainer);
    const tr = trainer;

    // ---- the steps ----
    const losses = spec.resume ? spec.resume.losses.slice(0, spec.resume.step) : [];
    const first = tr.step;
    let saved = tr.step;
    const checkpoint = async () => {
      const c: TrainCheckpoint = { jobId: spec.jobId, step: tr.step, steps: r.steps, trainer: tr.checkpoint(), lora: await readState(ctx, params.lora), tokens: await readState(ctx, params.tokens), losses: [...losses] };
      saved = tr.step;
      o.onProgress?.({ status: 'checkpoint', step: c.step, checkpoint: c });
    };
    // a sample of the concept as learned so far (train-preview.ts); skipped once cancelled
    const preview = async (step: number) => {
      if (signal?.aborted) return;
      const concept = await conceptOf(ctx, params, shape, spec, r, o.modelId);
      const image = await trainPreview(ctx, sampling!, parts, concept, { prompt: previewPromptOf(spec), resolution: spec.resolution, steps: r.previewSteps, seed: spec.previewSeed ?? spec.seed }, signal);
      if (image) o.onProgress?.({ status: 'train-preview', step, image });
    };
    let previewMs = 0;
    let previews = 0;
    const tTrain = performance.now();
    while (!tr.done) {
      if (signal?.aborted) {
        if (tr.step > saved) await checkpoint(); // pause loses no step
        signal.throwIfAborted();
      }
      const s = await tr.runStep();
      losses.push(s.loss);
      const secs = (performance.now() - tTrain - previewMs) / 1000;
      const itPerSec = secs > 0 ? (s.step - first) / secs : 0;
      // the ETA: the steps left at the measured rate, plus the previews still due (this step's included) at their mean time
      const previewEta = previews ? previewsDue(s.step - 1, r.steps, r.previewEvery) * (previewMs / previews) : 0;
      const etaMs = itPerSec > 0 ? ((r.steps - s.step) / itPerSec) * 1000 + previewEta : 0;
      o.onProgress?.({ status: 'train', step: s.step, steps: r.steps, loss: s.loss, lr: s.lrLora, itPerSec, etaMs, tokensFrozen: s.tokensFrozen });
      if (s.step % r.checkpointEvery === 0 || tr.done) await checkpoint();
      if (previewsDue(s.step - 1, s.step, r.previewEvery, r.steps)) {
        const tp = performance.now();
        await preview(s.step);
        previewMs += performance.now() - tp; // it/s counts training steps only
        previews++;
      }
    }
    const tDone = performance.now();
    const concept = await conceptOf(ctx, params, shape, spec, r, o.modelId);
    return { concept, losses, stepsRun: tr.step - first, timings: { prepareMs: tTrain - t0, trainMs: tDone - tTrain } };
  } finally {
    trainer?.destroy();
    destroyCidmParams(ctx, params);
  }
}

/** The buffers a train result or checkpoint can hand over instead of copying (worker postMessage). */
export function trainTransferables(v: TrainResult | TrainCheckpoint): ArrayBuffer[] {
  const arrays: Float32Array[] = 'concept' in v
    ? [...v.concept.tokens, ...[...v.concept.lora.values()].flatMap((l) => [l.down, l.up])]
    : [v.lora, v.tokens].flatMap((s) => [s.param, s.expAvg, s.expAvgSq]);
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}
