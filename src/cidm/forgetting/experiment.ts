/**
 * The forgetting experiment (issue "concept studio", point 7; the paper's forgetting analysis): learn K
 * synthetic concepts one after another on the tiny model, three ways, and measure after every task j the
 * masked denoising loss of every concept i ≤ j on its own photos (held-out noise and timesteps), through
 * elastic weight aggregation of the library as it stands:
 *
 *  - cidm:          a fresh LoRA + tokens per task, consolidated against every earlier task (γ = 0.1);
 *  - cidm-no-consol: the same without the consolidation loss (γ = 0);
 *  - finetune:      the paper's Finetuning baseline: one LoRA trained on task after task (fresh tokens per
 *                   task); every concept of the library then carries that one shared LoRA.
 *
 * Forgetting of concept i = loss after the last task − loss right after its own task; the average is over
 * all but the last concept. A lower number forgets less.
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { NoiseStream } from '../../diffusion/rng';
import { GpuUNetBackend } from '../../model/unet/gpu-backend';
import { unetForward } from '../../model/unet/forward';
import type { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import type { Concept } from '../concepts/concept';
import { EwaLibrary } from '../ewa/ewa';
import { layerContexts } from '../ewa/encode';
import { conceptCaptionIds } from '../train/caption-ids';
import { cidmShape, createCidmParams, destroyCidmParams, downName, tokenName, upName, type CidmParams } from '../train/cidm-params';
import type { CidmModel } from '../train/cidm-step';
import { maskedEpsMse, prepareLossMask } from '../train/diffusion-loss';
import { initCidmParams, syntheticConcept } from '../train/learn-check';
import { DdpmNoiser, type NoiseScheduleConfig } from '../train/noising';
import { CidmTrainer, type TrainingExample } from '../train/trainer';

export const FORGETTING_METHODS = ['cidm', 'cidm-no-consol', 'finetune'] as const;
export type ForgettingMethod = (typeof FORGETTING_METHODS)[number];

export interface ForgettingOptions {
  concepts: number;
  steps: number;
  seed?: number;
  photos?: number;
  evalDraws?: number;
  latent?: number;
  lrLora?: number;
  lrTokens?: number;
  /** s_lora of the EWA fold (default 1: every method evaluated at the scale it trained with). */
  loraScale?: number;
  methods?: readonly ForgettingMethod[];
  onLog?: (line: string) => void;
}

export interface MethodResult {
  method: ForgettingMethod;
  /** loss[i][j]: concept i after task j (null for j < i). */
  loss: (number | null)[][];
  forgetting: number[];
  averageForgetting: number;
  /** Mean loss over all concepts after the last task. */
  finalMeanLoss: number;
}

interface TaskData {
  placeholders: string[];
  examples: TrainingExample[];
  prompt: string;
}

function taskData(m: CidmModel, tokenizers: readonly ClipTokenizer[], i: number, o: ForgettingOptions): TaskData {
  const n = o.latent ?? 16;
  const C = m.unet.arch.inChannels;
  const placeholders = [`<fg${i}a>`, `<fg${i}b>`];
  const prompt = `a photo of ${placeholders.join(' ')} toy`;
  const ids = m.encoders.map((te, k) => conceptCaptionIds(tokenizers[k]!, prompt, placeholders, te.config.vocabSize).ids);
  const px = n * 8;
  // Concepts come in conflicting pairs: concept 2k+1 is concept 2k's object with its texture negated, at
  // the same places on the same background. What a shared LoRA learns for one it unlearns for the other;
  // separate LoRAs (CIDM) chosen per prompt by EWA need not.
  const examples = syntheticConcept(C, n, o.photos ?? 2, (o.seed ?? 7) * 100 + Math.floor(i / 2)).map((s) => ({
    latents: i % 2 ? negateObject(s.latents, s.mask, C) : s.latents,
    mask: s.mask,
    ids,
    ...(m.unet.arch.addition ? { timeIds: [px, px, 0, 0, px, px] } : {}),
  }));
  return { placeholders, examples, prompt };
}

function negateObject(latents: Float32Array, mask: Float32Array, channels: number): Float32Array {
  const out = Float32Array.from(latents);
  const hw = mask.length;
  for (let c = 0; c < channels; c++) for (let p = 0; p < hw; p++) if (mask[p]! > 0) out[c * hw + p] = -out[c * hw + p]!;
  return out;
}

async function toConcept(ctx: GpuContext, m: CidmModel, p: CidmParams, id: string, t: TaskData, taskIndex: number): Promise<Concept> {
  const lora = new Map<string, Concept['lora'] extends Map<string, infer V> ? V : never>();
  for (const tg of p.shape.targets) {
    lora.set(tg.module, { down: await p.lora.read(ctx, 'param', downName(tg.module)), up: await p.lora.read(ctx, 'param', upName(tg.module)), inFeatures: tg.inFeatures, outFeatures: tg.outFeatures });
  }
  const tokens = await Promise.all(m.encoders.map((_, k) => p.tokens.read(ctx, 'param', tokenName(k))));
  return {
    id, name: id, classWord: 'toy', placeholders: t.placeholders, taskIndex, layers: p.shape.layers, rank: p.shape.rank, tokens,
    tokenWidths: m.encoders.map((te) => te.config.hiddenSize), lora, modelId: 'tiny', createdAt: 0,
    hyper: { steps: 0, lrLora: 0, lrTokens: 0, rank: p.shape.rank, seed: 0, resolution: 0, masked: true, gamma: 0.1, r1Form: 'code' },
  };
}

/** Masked ε-MSE of concept `t` through EWA over `library` (held-out draws, forward only). */
async function ewaLoss(ctx: GpuContext, m: CidmModel, lib: EwaLibrary, t: TaskData, schedule: NoiseScheduleConfig, draws: number, seed: number): Promise<number> {
  const prepared = await lib.prepare(t.prompt);
  const ctxs = await layerContexts(ctx, prepared.prompt.states, lib.layers);
  const be = new GpuUNetBackend(ctx, prepared.folded.weights, m.dtype);
  const noiser = new DdpmNoiser(schedule);
  let sum = 0;
  let count = 0;
  try {
    for (const [i, ex] of t.examples.entries()) {
      for (let d = 0; d < draws; d++) {
        const rng = new NoiseStream(seed, 0x70000000 + i * 1000 + d);
        const noise = rng.normals(ex.latents.length);
        const step = Math.floor(rng.uniform() * noiser.numTrainTimesteps);
        const n = Math.round(Math.sqrt(ex.latents.length / m.unet.arch.inChannels));
        const shape = [1, m.unet.arch.inChannels, n, n];
        const noisy = ctx.upload(noiser.addNoise(ex.latents, noise, 1, [step]), shape, m.dtype, 'forgetting noisy');
        const target = ctx.upload(noise, shape, m.dtype, 'forgetting target');
        const pred: Tensor = await unetForward(be, m.unet.arch, {
          sample: noisy,
          timesteps: [step],
          encoderHiddenStates: ctxs.contexts[0]!,
          layerContexts: ctxs.contexts,
          ...(prepared.prompt.pooled ? { textEmbeds: prepared.prompt.pooled, timeIds: ex.timeIds } : {}),
        });
        const mask = prepareLossMask(ctx, ex.mask!, [1, 1, n, n]);
        const r = await maskedEpsMse(ctx, pred, target, mask);
        sum += (await ctx.read(r.loss))[0]!;
        count++;
        ctx.release(r.loss, r.grad, pred, noisy, target, mask.tensor);
      }
    }
  } finally {
    ctxs.release();
    prepared.release();
  }
  return sum / count;
}

export async function runForgettingMethod(
  ctx: GpuContext, m: CidmModel, tokenizers: readonly ClipTokenizer[], schedule: NoiseScheduleConfig, method: ForgettingMethod, o: ForgettingOptions,
): Promise<MethodResult> {
  const K = o.concepts;
  const seed = o.seed ?? 7;
  const tasks = Array.from({ length: K }, (_, i) => taskData(m, tokenizers, i, o));
  const shape = cidmShape(m.unet.arch, 2, 4, m.encoders.map((te) => te.config.hiddenSize));
  const loss: (number | null)[][] = tasks.map(() => Array<number | null>(K).fill(null));
  const learned: Concept[] = [];
  let shared: CidmParams | null = null; // finetune: the one LoRA carried from task to task
  for (let j = 0; j < K; j++) {
    const p = createCidmParams(ctx, shape);
    try {
      await initCidmParams(ctx, m, p, seed + j, m.encoders.map(() => [null, null]));
      if (method === 'finetune' && shared) {
        for (const tg of shape.targets) for (const name of [downName(tg.module), upName(tg.module)]) p.lora.write(ctx, 'param', name, await shared.lora.read(ctx, 'param', name));
      }
      const oldTasks = method === 'cidm' ? learned.map((c) => new Map([...c.lora].map(([mod, l]) => [upName(mod), l.up]))) : [];
      const n = o.latent ?? 16;
      const trainer = new CidmTrainer(ctx, m, p, oldTasks, tasks[j]!.examples, {
        steps: o.steps, seed: seed + 31 * j, lrLora: o.lrLora ?? 3e-3, lrTokens: o.lrTokens ?? 3e-2,
        latentShape: [m.unet.arch.inChannels, n, n], schedule, tokenNormThreshold: Infinity, checkpointing: false,
        gamma: method === 'cidm-no-consol' ? 0 : 0.1,
      });
      try {
        while (!trainer.done) await trainer.runStep();
      } finally {
        trainer.destroy();
      }
      learned.push(await toConcept(ctx, m, p, `task${j + 1}`, tasks[j]!, j + 1));
      if (method === 'finetune') {
        // every concept now carries the one shared LoRA (its own tokens stay its own)
        const current = learned[j]!.lora;
        for (const c of learned) c.lora = current;
        if (shared) destroyCidmParams(ctx, shared);
        shared = p;
      }
    } finally {
      if (shared !== p) destroyCidmParams(ctx, p);
    }
    const lib = await EwaLibrary.create(ctx, m, tokenizers, learned, { loraScale: o.loraScale ?? 1 });
    try {
      for (let i = 0; i <= j; i++) {
        loss[i]![j] = await ewaLoss(ctx, m, lib, tasks[i]!, schedule, o.evalDraws ?? 2, seed + 1000);
        o.onLog?.(`${method}: concept ${i + 1} after task ${j + 1}: ${loss[i]![j]!.toFixed(4)}`);
      }
    } finally {
      lib.destroy();
    }
  }
  if (shared) destroyCidmParams(ctx, shared);
  const forgetting = tasks.slice(0, -1).map((_, i) => loss[i]![K - 1]! - loss[i]![i]!);
  return {
    method,
    loss,
    forgetting,
    averageForgetting: forgetting.length ? forgetting.reduce((a, b) => a + b, 0) / forgetting.length : 0,
    finalMeanLoss: loss.reduce((a, row) => a + row[K - 1]!, 0) / K,
  };
}

export async function runForgettingExperiment(
  ctx: GpuContext, m: CidmModel, tokenizers: readonly ClipTokenizer[], schedule: NoiseScheduleConfig, o: ForgettingOptions,
): Promise<MethodResult[]> {
  const out: MethodResult[] = [];
  for (const method of o.methods ?? FORGETTING_METHODS) out.push(await runForgettingMethod(ctx, m, tokenizers, schedule, method, o));
  return out;
}
