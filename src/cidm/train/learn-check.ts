/**
 * "The learning is real": trains a model on a synthetic concept and measures the masked denoising loss
 * on held-out noise and timesteps before and after (npm run learn-check; a short form runs in the test
 * command). The concept is a fixed textured object on a plain background, moved a little from photo to
 * photo, in latent space: a random-weight model denoises it badly at first, and only learning (tokens
 * and LoRA together) can bring the loss on those exact textures down.
 */
import type { GpuContext } from '../../gpu/context';
import { NoiseStream } from '../../diffusion/rng';
import type { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { conceptCaptionIds } from './caption-ids';
import { cidmShape, createCidmParams, destroyCidmParams, downName, tokenName, upName, type CidmParams } from './cidm-params';
import { cidmForward, type CidmModel } from './cidm-step';
import { epsMse, maskedEpsMse, prepareLossMask } from './diffusion-loss';
import { initConceptTokens, initLoraDown, initLoraUp } from './lora-init';
import { DdpmNoiser, type NoiseScheduleConfig } from './noising';
import { CidmTrainer, type StepReport, type TrainingExample } from './trainer';

export interface LearnCheckOptions {
  steps: number;
  seed?: number;
  /** Latent size h = w (the object is about a third of it). */
  latent?: number;
  photos?: number;
  /** Held-out (noise, timestep) draws per photo for the evaluation. */
  evalDraws?: number;
  /** Learning rates: a tiny random model needs more than CIDM's 1e-4 / 1e-3 to move in a few steps. */
  lrLora?: number;
  lrTokens?: number;
  /** Gradient checkpointing (default on; the tiny model fits without it, and CPU adapters are faster). */
  checkpointing?: boolean;
  onStep?: (r: StepReport) => void;
}

export interface LearnCheckResult {
  before: number;
  after: number;
  /** Relative fall (before − after) / before. */
  fall: number;
  /** max |Δ| of the tokens and of the LoRA ups over the run. */
  tokenChange: number;
  loraChange: number;
  steps: StepReport[];
}

/** Photos of the synthetic concept: latents [C, n, n] and the object's mask [n, n]. */
export function syntheticConcept(channels: number, n: number, photos: number, seed: number): { latents: Float32Array; mask: Float32Array }[] {
  const rng = new NoiseStream(seed, 77);
  const size = Math.max(3, Math.round(n / 3));
  const texture = Float32Array.from({ length: channels * size * size }, () => 1.5 * rng.normal());
  const background = Float32Array.from({ length: channels }, () => 0.5 * rng.normal());
  return Array.from({ length: photos }, () => {
    const oy = Math.floor(rng.uniform() * (n - size));
    const ox = Math.floor(rng.uniform() * (n - size));
    const latents = new Float32Array(channels * n * n);
    const mask = new Float32Array(n * n);
    for (let c = 0; c < channels; c++) latents.fill(background[c]!, c * n * n, (c + 1) * n * n);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        mask[(oy + y) * n + ox + x] = 1;
        for (let c = 0; c < channels; c++) latents[c * n * n + (oy + y) * n + ox + x] = texture[(c * size + y) * size + x]!;
      }
    }
    return { latents, mask };
  });
}

/** CIDM's initial values (lora-init.ts): down Kaiming-uniform, up 0, tokens from N(0, σ²) / the class word. */
export async function initCidmParams(ctx: GpuContext, m: CidmModel, p: CidmParams, seed: number, classRows: readonly (Float32Array | null)[][]): Promise<void> {
  const rng = new NoiseStream(seed, 11);
  for (const t of p.shape.targets) {
    p.lora.write(ctx, 'param', downName(t.module), initLoraDown(rng, p.shape.rank, t.inFeatures));
    p.lora.write(ctx, 'param', upName(t.module), initLoraUp(t.outFeatures, p.shape.rank));
  }
  m.encoders.forEach((te, k) => {
    p.tokens.write(ctx, 'param', tokenName(k), initConceptTokens(rng, { layers: p.shape.layers, dim: te.config.hiddenSize, sigma: 0.013, words: classRows[k]! }));
  });
  await p.lora.resetMoments(ctx);
  await p.tokens.resetMoments(ctx);
}

/** Masked ε-MSE of the current parameters on fixed held-out draws (forward only). */
export async function heldOutLoss(ctx: GpuContext, m: CidmModel, p: CidmParams, examples: readonly TrainingExample[], schedule: NoiseScheduleConfig, draws: number, seed: number): Promise<number> {
  const noiser = new DdpmNoiser(schedule);
  let sum = 0;
  let n = 0;
  for (const [i, ex] of examples.entries()) {
    for (let d = 0; d < draws; d++) {
      const rng = new NoiseStream(seed, 0x60000000 + i * 1000 + d);
      const noise = rng.normals(ex.latents.length);
      const t = Math.floor(rng.uniform() * noiser.numTrainTimesteps);
      const shape = [1, ...latentShapeOf(ex, m)];
      const noisy = ctx.upload(noiser.addNoise(ex.latents, noise, 1, [t]), shape, m.dtype, 'eval noisy');
      const target = ctx.upload(noise, shape, m.dtype, 'eval target');
      const f = await cidmForward(ctx, m, p, { noisy, timesteps: [t], timeIds: ex.timeIds, ids: ex.ids });
      const mask = ex.mask ? prepareLossMask(ctx, ex.mask, [1, 1, shape[2]!, shape[3]!]) : null;
      const r = mask ? await maskedEpsMse(ctx, f.pred.t, target, mask) : await epsMse(ctx, f.pred.t, target);
      sum += (await ctx.read(r.loss))[0]!;
      n++;
      ctx.release(r.loss, r.grad, noisy, target);
      if (mask) ctx.release(mask.tensor);
      f.tape.release(f.pred.t);
      f.tape.release(f.states.t);
      if (f.pooled) f.tape.release(f.pooled.t);
      f.dispose();
    }
  }
  return sum / n;
}

function latentShapeOf(ex: TrainingExample, m: CidmModel): [number, number, number] {
  const c = m.unet.arch.inChannels;
  const n = Math.round(Math.sqrt(ex.latents.length / c));
  return [c, n, n];
}

async function maxChange(ctx: GpuContext, group: CidmParams['lora'], before: Float32Array): Promise<number> {
  const after = await group.read(ctx, 'param');
  let d = 0;
  for (let i = 0; i < after.length; i++) d = Math.max(d, Math.abs(after[i]! - before[i]!));
  return d;
}

export async function runLearnCheck(ctx: GpuContext, m: CidmModel, tokenizers: readonly ClipTokenizer[], schedule: NoiseScheduleConfig, o: LearnCheckOptions): Promise<LearnCheckResult> {
  const seed = o.seed ?? 2022;
  const n = o.latent ?? 16;
  const C = m.unet.arch.inChannels;
  const placeholders = ['<learn1>', '<learn2>'];
  const caption = 'a photo of <learn1> <learn2> toy';
  const ids = m.encoders.map((te, k) => conceptCaptionIds(tokenizers[k]!, caption, placeholders, te.config.vocabSize).ids);
  const sizePx = n * 8;
  const examples: TrainingExample[] = syntheticConcept(C, n, o.photos ?? 4, seed).map((s) => ({
    ...s,
    ids,
    ...(m.unet.arch.addition ? { timeIds: [sizePx, sizePx, 0, 0, sizePx, sizePx] } : {}),
  }));
  const shape = cidmShape(m.unet.arch, placeholders.length, 4, m.encoders.map((te) => te.config.hiddenSize));
  const p = createCidmParams(ctx, shape);
  const trainer = new CidmTrainer(ctx, m, p, [], examples, {
    steps: o.steps,
    seed,
    lrLora: o.lrLora ?? 1e-3,
    lrTokens: o.lrTokens ?? 1e-2,
    latentShape: [C, n, n],
    schedule,
    // The check measures learning, not the early stop: the tokens keep training.
    tokenNormThreshold: Infinity,
    ...(o.checkpointing === false ? { checkpointing: false } : {}),
  });
  try {
    // Random first word, the other initialised at random too (no class row needed for a synthetic concept).
    await initCidmParams(ctx, m, p, seed, m.encoders.map(() => [null, null]));
    const tokens0 = await p.tokens.read(ctx, 'param');
    const lora0 = await p.lora.read(ctx, 'param');
    const draws = o.evalDraws ?? 4;
    const before = await heldOutLoss(ctx, m, p, examples, schedule, draws, seed + 1);
    const steps: StepReport[] = [];
    while (!trainer.done) {
      const r = await trainer.runStep();
      steps.push(r);
      o.onStep?.(r);
    }
    const after = await heldOutLoss(ctx, m, p, examples, schedule, draws, seed + 1);
    return { before, after, fall: (before - after) / before, tokenChange: await maxChange(ctx, p.tokens, tokens0), loraChange: await maxChange(ctx, p.lora, lora0), steps };
  } finally {
    trainer.destroy();
    destroyCidmParams(ctx, p);
  }
}
