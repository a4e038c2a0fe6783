/**
 * The forgetting experiment (issue "concept studio", point 7; the paper's forgetting analysis): learn K
 * synthetic concepts (synthetic.ts: strongly coloured objects in conflicting pairs) one after another on
 * the tiny model, three ways, and measure after every task j the masked denoising loss of every concept
 * i ≤ j on its own photos (fixed held-out draws, ewa-loss.ts), through elastic weight aggregation of the
 * library as it stands:
 *
 *  - cidm:           a fresh LoRA + tokens per task, consolidated against every earlier task (γ = 0.1);
 *  - cidm-no-consol: the same without the consolidation loss (γ = 0);
 *  - finetune:       the paper's Finetuning baseline: one LoRA trained on task after task (fresh tokens per
 *                    task); every concept of the library then carries that one shared LoRA.
 *
 * All three learn on the same base: the tiny random-weight model warmed up once into a generic denoiser
 * of this kind of data (warmup.ts; real SDXL is a denoiser already), so that what a task learns, and what
 * a later task can make it forget, is the concept's identity rather than generic denoising.
 *
 * Task 1 is the same for all three (a fresh LoRA, no earlier task to consolidate against), so it is
 * trained once and shared. Each concept's loss with its initial tokens and a zero LoRA is measured on the
 * random base and on the warmed base, to show that the warm-up did its part and that every concept was
 * then actually learned. Forgetting: metrics.ts.
 */
import type { GpuContext } from '../../gpu/context';
import { embedding } from '../../ops/embedding';
import type { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import type { Concept } from '../concepts/concept';
import { EwaLibrary } from '../ewa/ewa';
import { conceptCaptionIds } from '../train/caption-ids';
import { cidmShape, createCidmParams, destroyCidmParams, downName, tokenName, upName, type CidmParams, type CidmShape } from '../train/cidm-params';
import type { CidmModel } from '../train/cidm-step';
import { NoiseStream } from '../../diffusion/rng';
import { cidmTokenSigma, initConceptTokens, initLoraDown, initLoraUp } from '../train/lora-init';
import type { NoiseScheduleConfig } from '../train/noising';
import { CidmTrainer, type TrainingExample } from '../train/trainer';
import { ewaProbeLoss, type LossProbe } from './ewa-loss';
import { summarizeForgetting, type ForgettingSummary } from './metrics';
import { syntheticClassWord, syntheticConceptPhotos } from './synthetic';
import { warmUpBase, WARMUP_CAPTION, type WarmBase, type WarmupScope } from './warmup';

export const FORGETTING_METHODS = ['cidm', 'cidm-no-consol', 'finetune'] as const;
export type ForgettingMethod = (typeof FORGETTING_METHODS)[number];

export interface ForgettingOptions {
  concepts: number;
  /** Training steps per task. */
  steps: number;
  seed?: number;
  photos?: number;
  /** Held-out (timestep, noise) draws per photo. */
  evalDraws?: number;
  latent?: number;
  lrLora?: number;
  lrTokens?: number;
  /** RMS of each concept's colour (synthetic.ts). */
  amplitude?: number;
  /** s_lora of the EWA fold (default 1: every method evaluated at the scale it trained with). */
  loraScale?: number;
  /**
   * A concept counts as learned when its loss fell by at least this fraction in its task (default 0.02).
   * Why so small a bar: on the tiny random-weight model most of a concept's loss is the noise the
   * warmed base cannot predict at all, and the full-resolution path (conv_in, the first and last
   * ResNet blocks, conv_out) carries no LoRA, so a concept's own task can only remove its colour's
   * share of the loss: 2.5–7% at the defaults (README "Forgetting experiment"). The evaluation draws
   * are fixed, so a fall is not sampling noise; 2% separates "learned" from "not moved" (0.98–1.01
   * before the readout warm-up).
   */
  minFall?: number;
  /** The shared warm-up (warmup.ts): steps (0: none), LoRA rank, learning rate, objects a step, its seed, its targets. */
  warmupSteps?: number;
  warmupRank?: number;
  warmupLr?: number;
  warmupBatch?: number;
  warmupSeed?: number;
  warmupScope?: WarmupScope;
  /** Batches for the warm-up's closed-form conv_out refit (readout-fit.ts; 0: none). */
  warmupReadout?: number;
  /** Interim conv_out refits every this many warm-up steps (warmup.ts). */
  warmupReadoutEvery?: number;
  methods?: readonly ForgettingMethod[];
  onLog?: (line: string) => void;
}

/**
 * The test command's small form: the first conflicting pair only, CIDM against Finetuning (three
 * trainings), on another seed than the command's default, on a shorter warm-up.
 */
export const FORGETTING_SMALL: ForgettingOptions = {
  concepts: 2, steps: 12, seed: 8, methods: ['cidm', 'finetune'], warmupSteps: 12, warmupScope: 'attn2', warmupReadout: 0, lrLora: 2e-2, amplitude: 2,
};

/** The defaults of every option but concepts and steps (the JSON records them). */
export function forgettingSettings(o: ForgettingOptions) {
  return {
    concepts: o.concepts, steps: o.steps, seed: o.seed ?? 7, photos: o.photos ?? 2, evalDraws: o.evalDraws ?? 4, latent: o.latent ?? 8,
    lrLora: o.lrLora ?? 1e-2, lrTokens: o.lrTokens ?? 5e-2, amplitude: o.amplitude ?? 3, loraScale: o.loraScale ?? 1, minFall: o.minFall ?? 0.02,
    rank: 4, gammaCidm: 0.1, methods: [...(o.methods ?? FORGETTING_METHODS)],
    warmup: { steps: o.warmupSteps ?? 48, rank: o.warmupRank ?? 16, lr: o.warmupLr ?? 1e-2, batch: o.warmupBatch ?? 8, seed: o.warmupSeed ?? 1, scope: o.warmupScope ?? 'linears', readoutBatches: o.warmupReadout ?? 16, readoutEvery: o.warmupReadoutEvery ?? 12, caption: WARMUP_CAPTION },
  };
}
type Settings = ReturnType<typeof forgettingSettings>;

export interface MethodResult extends ForgettingSummary {
  method: ForgettingMethod;
  /** loss[i][j]: concept i after task j (null for j < i). */
  loss: (number | null)[][];
}

export interface WarmupReport {
  seconds: number;
  /** Its training loss (plain ε-MSE): the mean of the first and of the last eighth of its steps. */
  firstLoss: number;
  lastLoss: number;
  curve: number[];
}

export interface ExperimentResult {
  settings: Settings;
  warmup: WarmupReport;
  /** Per concept: its loss with initial tokens and a zero LoRA on the random base (before the warm-up). */
  beforeWarmup: number[];
  /** Per concept: the same on the warmed base, i.e. before its task: what its task starts from. */
  before: number[];
  /** Per concept: its loss right after its own task, as a fraction of `before`. */
  learnedRatio: number[];
  /** Every concept's loss fell by at least settings.minFall in its own task (in every method). */
  allLearned: boolean;
  methods: MethodResult[];
}

interface Task {
  placeholders: string[];
  classWord: string;
  examples: TrainingExample[];
  probe: LossProbe;
}

function makeTask(m: CidmModel, tokenizers: readonly ClipTokenizer[], i: number, s: Settings): Task {
  const placeholders = [`<fg${i}a>`, `<fg${i}b>`];
  const classWord = syntheticClassWord(i);
  const prompt = `a photo of ${placeholders.join(' ')} ${classWord}`;
  const ids = m.encoders.map((te, k) => conceptCaptionIds(tokenizers[k]!, prompt, placeholders, te.config.vocabSize).ids);
  const px = s.latent * 8;
  const timeIds = m.unet.arch.addition ? [px, px, 0, 0, px, px] : undefined;
  const photos = syntheticConceptPhotos(i, { channels: m.unet.arch.inChannels, latent: s.latent, photos: s.photos, seed: s.seed, amplitude: s.amplitude });
  const examples = photos.map((p) => ({ latents: p.latents, mask: p.mask, ids, ...(timeIds ? { timeIds } : {}) }));
  return { placeholders, classWord, examples, probe: { prompt, examples } };
}

/** Spec §1.4: per encoder, [random, the class word's row] for the two placeholder words. */
async function classRows(ctx: GpuContext, m: CidmModel, tokenizers: readonly ClipTokenizer[], word: string): Promise<(Float32Array | null)[][]> {
  const out: (Float32Array | null)[][] = [];
  for (const [k, te] of m.encoders.entries()) {
    const id = tokenizers[k]!.encode(word)[0]!;
    const t = await embedding(ctx, [id], te.tokenBlocks, { label: `class row ${word}` });
    out.push([null, await ctx.read(t)]);
    ctx.release(t);
  }
  return out;
}

async function toConcept(ctx: GpuContext, m: CidmModel, p: CidmParams, id: string, t: Task, taskIndex: number): Promise<Concept> {
  const lora: Concept['lora'] = new Map();
  for (const tg of p.shape.targets) {
    lora.set(tg.module, { down: await p.lora.read(ctx, 'param', downName(tg.module)), up: await p.lora.read(ctx, 'param', upName(tg.module)), inFeatures: tg.inFeatures, outFeatures: tg.outFeatures });
  }
  const tokens = await Promise.all(m.encoders.map((_, k) => p.tokens.read(ctx, 'param', tokenName(k))));
  return {
    id, name: id, classWord: t.classWord, placeholders: t.placeholders, taskIndex, layers: p.shape.layers, rank: p.shape.rank, tokens,
    tokenWidths: m.encoders.map((te) => te.config.hiddenSize), lora, modelId: 'tiny', createdAt: 0,
    hyper: { steps: 0, lrLora: 0, lrTokens: 0, rank: p.shape.rank, seed: 0, resolution: 0, masked: true, gamma: 0.1, r1Form: 'code' },
  };
}

class Run {
  readonly shape: CidmShape;
  constructor(readonly ctx: GpuContext, readonly m: CidmModel, readonly tokenizers: readonly ClipTokenizer[], readonly schedule: NoiseScheduleConfig, readonly s: Settings, readonly tasks: Task[]) {
    this.shape = cidmShape(m.unet.arch, 2, s.rank, m.encoders.map((te) => te.config.hiddenSize));
  }

  /** CIDM's init (spec §1.3–1.4, as the engine's training job): down Kaiming-uniform, up 0, tokens [N(0, σ_j²), class row]. */
  private async init(p: CidmParams, j: number, startLora?: Concept['lora']): Promise<void> {
    const { ctx, m } = this;
    const rng = new NoiseStream(this.s.seed + j, 11);
    for (const t of p.shape.targets) {
      p.lora.write(ctx, 'param', downName(t.module), startLora?.get(t.module)?.down ?? initLoraDown(rng, p.shape.rank, t.inFeatures));
      p.lora.write(ctx, 'param', upName(t.module), startLora?.get(t.module)?.up ?? initLoraUp(t.outFeatures, p.shape.rank));
    }
    const rows = await classRows(ctx, m, this.tokenizers, this.tasks[j]!.classWord);
    m.encoders.forEach((te, k) => {
      p.tokens.write(ctx, 'param', tokenName(k), initConceptTokens(rng, { layers: p.shape.layers, dim: te.config.hiddenSize, sigma: cidmTokenSigma(j + 1), words: rows[k]! }));
    });
    await p.lora.resetMoments(ctx);
    await p.tokens.resetMoments(ctx);
  }

  /** Task j's concept: initialised (spec §1.3–1.4), optionally started from `startLora`, trained `steps` steps. */
  async learn(j: number, steps: number, gamma: number, old: readonly Concept[], startLora?: Concept['lora']): Promise<Concept> {
    const { ctx, m, s } = this;
    const p = createCidmParams(ctx, this.shape);
    try {
      await this.init(p, j, startLora);
      if (steps > 0) {
        const oldTasks = old.map((c) => new Map([...c.lora].map(([mod, l]) => [upName(mod), l.up])));
        const trainer = new CidmTrainer(ctx, m, p, oldTasks, this.tasks[j]!.examples, {
          steps, seed: s.seed + 31 * j, lrLora: s.lrLora, lrTokens: s.lrTokens, latentShape: [m.unet.arch.inChannels, s.latent, s.latent],
          schedule: this.schedule, tokenNormThreshold: Infinity, checkpointing: false, gamma,
        });
        try {
          while (!trainer.done) await trainer.runStep();
        } finally {
          trainer.destroy();
        }
      }
      return await toConcept(ctx, m, p, `task${j + 1}`, this.tasks[j]!, j + 1);
    } finally {
      destroyCidmParams(ctx, p);
    }
  }

  /** Loss of concepts `which` through EWA over `library`. */
  async losses(library: readonly Concept[], which: readonly number[]): Promise<number[]> {
    const lib = await EwaLibrary.create(this.ctx, this.m, this.tokenizers, library, { loraScale: this.s.loraScale });
    try {
      const out: number[] = [];
      for (const i of which) out.push(await ewaProbeLoss(this.ctx, this.m, lib, this.tasks[i]!.probe, this.schedule, { draws: this.s.evalDraws, seed: this.s.seed + 1000 }));
      return out;
    } finally {
      lib.destroy();
    }
  }
}

async function runMethod(run: Run, method: ForgettingMethod, first: Concept, firstLoss: number, log: (l: string) => void): Promise<MethodResult> {
  const K = run.s.concepts;
  const loss: (number | null)[][] = Array.from({ length: K }, () => Array<number | null>(K).fill(null));
  loss[0]![0] = firstLoss;
  const learned: Concept[] = [first];
  for (let j = 1; j < K; j++) {
    const t0 = performance.now();
    if (method === 'finetune') {
      // the one LoRA goes on from the last task; every concept then carries it (its tokens stay its own)
      const c = await run.learn(j, run.s.steps, 0, [], learned[j - 1]!.lora);
      learned.push(c);
      for (const k of learned) k.lora = c.lora;
    } else {
      learned.push(await run.learn(j, run.s.steps, method === 'cidm' ? run.s.gammaCidm : 0, learned));
    }
    const t1 = performance.now();
    const row = await run.losses(learned, learned.map((_, i) => i));
    row.forEach((v, i) => (loss[i]![j] = v));
    log(`${method}: after task ${j + 1}: ${row.map((v) => v.toFixed(4)).join(' ')} (train ${((t1 - t0) / 1000).toFixed(0)} s, eval ${((performance.now() - t1) / 1000).toFixed(0)} s)`);
  }
  return { method, loss, ...summarizeForgetting(loss) };
}

/** The warm-up of `o`'s settings (one base for every seed of a run: pass it to runForgettingExperiment). */
export function warmUpForgettingBase(ctx: GpuContext, m: CidmModel, tokenizers: readonly ClipTokenizer[], schedule: NoiseScheduleConfig, o: ForgettingOptions): Promise<WarmBase> {
  const s = forgettingSettings(o);
  const log = o.onLog ?? (() => {});
  const every = Math.max(1, Math.round(s.warmup.steps / 4));
  return warmUpBase(ctx, m, tokenizers, schedule, {
    ...s.warmup, latent: s.latent, amplitude: s.amplitude,
    onProgress: (k, loss) => k % every === 0 && log(`warm-up step ${k}/${s.warmup.steps}: loss ${loss.toFixed(4)}`),
  });
}

/** Mean of the first / last eighth of a curve. */
function ends(curve: readonly number[]): [number, number] {
  const n = Math.max(1, Math.ceil(curve.length / 8));
  const mean = (a: readonly number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
  return [mean(curve.slice(0, n)), mean(curve.slice(-n))];
}

/**
 * Runs the experiment for `o.seed` on `m`. `warm`: the shared base from warmUpForgettingBase (the
 * caller's to release); without it the base is warmed up here and released at the end.
 */
export async function runForgettingExperiment(
  ctx: GpuContext, m: CidmModel, tokenizers: readonly ClipTokenizer[], schedule: NoiseScheduleConfig, o: ForgettingOptions, warm?: WarmBase,
): Promise<ExperimentResult> {
  const s = forgettingSettings(o);
  if (!Number.isInteger(s.concepts) || s.concepts < 2) throw new RangeError(`the forgetting experiment needs at least 2 concepts, got ${s.concepts}`);
  const log = o.onLog ?? (() => {});
  const base = warm ?? (await warmUpForgettingBase(ctx, m, tokenizers, schedule, o));
  try {
    return await experimentOn(ctx, m, base, tokenizers, schedule, s, log);
  } finally {
    if (!warm) base.release();
  }
}

async function experimentOn(
  ctx: GpuContext, m: CidmModel, warm: WarmBase, tokenizers: readonly ClipTokenizer[], schedule: NoiseScheduleConfig, s: Settings, log: (l: string) => void,
): Promise<ExperimentResult> {
  const tasks = Array.from({ length: s.concepts }, (_, i) => makeTask(m, tokenizers, i, s));
  const all = tasks.map((_, i) => i);
  // A zero LoRA folds to W0 whatever the EWA weights: one library of every initial concept measures each
  // concept's starting loss exactly as a library of it alone would.
  const randomRun = new Run(ctx, m, tokenizers, schedule, s, tasks);
  const initial: Concept[] = [];
  for (const i of all) initial.push(await randomRun.learn(i, 0, 0, []));
  const beforeWarmup = await randomRun.losses(initial, all);
  const run = new Run(ctx, warm.model, tokenizers, schedule, s, tasks);
  const before = await run.losses(initial, all);
  log(`loss with initial tokens, zero LoRA: random base ${beforeWarmup.map((v) => v.toFixed(4)).join(' ')}; warmed base ${before.map((v) => v.toFixed(4)).join(' ')}`);
  const t0 = performance.now();
  const first = await run.learn(0, s.steps, 0, []);
  const firstLoss = (await run.losses([first], [0]))[0]!;
  log(`all methods: after task 1: ${firstLoss.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const methods: MethodResult[] = [];
  for (const method of s.methods) {
    const copy: Concept = { ...first, lora: new Map(first.lora) };
    methods.push(await runMethod(run, method, copy, firstLoss, log));
  }
  const diag = before.map((_, i) => Math.max(...methods.map((r) => r.loss[i]![i]!)));
  const [warmFirst, warmLast] = ends(warm.curve);
  return {
    settings: s,
    warmup: { seconds: warm.seconds, firstLoss: warmFirst, lastLoss: warmLast, curve: warm.curve },
    beforeWarmup,
    before,
    learnedRatio: diag.map((d, i) => d / before[i]!),
    allLearned: diag.every((d, i) => d <= (1 - s.minFall) * before[i]!),
    methods,
  };
}
