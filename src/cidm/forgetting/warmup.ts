/**
 * The forgetting experiment's shared "pretrained base" (experiment.ts). The golden tiny SDXL has random
 * weights: it does not denoise anything, so whatever a concept's LoRA learns first is generic (bringing
 * the random ε̂ toward a denoiser of this latent distribution), and that generic gain is shared by every
 * concept — a shared LoRA that keeps improving it looks like it "remembers", drowning the identity a
 * later task overwrites. Real SDXL is already a good denoiser; CIDM (spec §1.2) learns concepts on top.
 *
 * So before task 1 the base is warmed up once, the same for every method and every seed: a rank-`rank`
 * LoRA on every attn2 linear (the concepts' own targets; `scope: 'linears'` adapts every linear of the
 * UNet) learns the masked ε-MSE on batches of fresh objects of the concepts' kind in random colours
 * (synthetic.ts syntheticWarmupPhotos) under a neutral caption that names no concept, and is then merged
 * into W0 (fold.ts: W0 + U·D, one "concept" of weight 1 at scale 1). Batches, because a step's cost on
 * the tiny model is mostly fixed (L = 28 layer-wise prompts through both text encoders), so more objects
 * a step buy a far steadier gradient than more steps.
 *
 * What the LoRA cannot do: the full-resolution path (conv_in → down_blocks.0 → up_blocks.2 → conv_out)
 * has no linear to adapt, and a random conv_out reads the features into an ε̂ worse than predicting zero
 * (the masked loss plateaus near 4, README). With `readoutBatches`, conv_out is then refit in closed form
 * on the warmed features (readout-fit.ts: the least-squares readout), and with `readoutEvery` also during
 * the warm-up, so that the LoRA trains against a readout that follows it (EM-like). Measured (README,
 * "Forgetting experiment"): concept losses from ≈ 4.1 to ≈ 2.8–2.9, i.e. a base that denoises.
 */
import type { GpuContext } from '../../gpu/context';
import type { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { NoiseStream } from '../../diffusion/rng';
import type { Concept } from '../concepts/concept';
import { createLoraBank, foldEwa } from '../ewa/fold';
import { conceptCaptionIds } from '../train/caption-ids';
import { cidmShape, createCidmParams, destroyCidmParams, downName, upName, type CidmParams } from '../train/cidm-params';
import type { CidmModel } from '../train/cidm-step';
import { loraTargets, type LoraTarget } from '../train/layers';
import { initLoraDown, initLoraUp } from '../train/lora-init';
import { CIDM_NOISE_OFFSET, DdpmNoiser, drawTrainingNoise, type NoiseScheduleConfig } from '../train/noising';
import { AdamW } from '../train/adamw';
import { cidmBackward, cidmForward } from '../train/cidm-step';
import { maskedEpsMse, prepareLossMask } from '../train/diffusion-loss';
import { assertFiniteLoss } from '../train/errors';
import { linearDecayLr } from '../train/lr-schedule';
import { syntheticWarmupPhotos, type SyntheticPhoto } from './synthetic';
import { ReadoutFit } from './readout-fit';
import type { Tensor } from '../../gpu/tensor';

export interface WarmupOptions {
  /** Training steps (0: no warm-up, the random base as it is). */
  steps: number;
  rank: number;
  lr: number;
  /** Objects per step (each step draws new ones: steps × batch in all). */
  batch: number;
  latent: number;
  amplitude: number;
  /** Its own seed: the base is one model for every seed of the experiment. */
  seed: number;
  /** Which weights it adapts: the attn2 linears (the concepts' own targets) or every linear of the UNet. */
  scope: WarmupScope;
  /** Batches of fresh objects for the closed-form conv_out refit after the LoRA warm-up (readout-fit.ts; 0: none). */
  readoutBatches?: number;
  /** Also refit conv_out every this many warm-up steps, on the features of the LoRA as trained so far (0: only at the end). */
  readoutEvery?: number;
  onProgress?: (step: number, loss: number) => void;
  signal?: AbortSignal;
}

export type WarmupScope = 'attn2' | 'linears';

/** The warm-up's targets: a LoRA on each, all in one fold "layer" (fold.ts scales per layer; here all 1). */
function warmupTargets(m: CidmModel, scope: WarmupScope): LoraTarget[] {
  if (scope === 'attn2') return loraTargets(m.unet.arch).map((t) => ({ ...t, layer: 0 }));
  const out: LoraTarget[] = [];
  for (const [name, w] of m.unet.weights) {
    if (w.shape.length !== 2 || !name.endsWith('.weight')) continue;
    out.push({ module: name.slice(0, -'.weight'.length), weight: name, outFeatures: w.shape[0]!, inFeatures: w.shape[1]!, layer: 0 });
  }
  return out;
}

/** A batch of synthetic photos as one [B, C, n, n] latent tensor and one [B, n, n] mask. */
function stackBatch(batch: readonly SyntheticPhoto[], C: number, n: number): { x0: Float32Array; masks: Float32Array } {
  const x0 = new Float32Array(batch.length * C * n * n);
  const masks = new Float32Array(batch.length * n * n);
  batch.forEach((ph, b) => {
    x0.set(ph.latents, b * C * n * n);
    masks.set(ph.mask, b * n * n);
  });
  return { x0, masks };
}

/** The neutral caption: no placeholder word, no class word of any concept. */
export const WARMUP_CAPTION = 'a photo of an object';
/** A placeholder the warm-up's caption never names (the trainer needs a token table; it gets no gradient). */
const UNUSED_PLACEHOLDER = '<warmup>';

export interface WarmBase {
  /** The model with the warm-up LoRA merged into its attn2 weights (other weights shared with the original). */
  model: CidmModel;
  /** Training loss per step (masked ε-MSE over the step's batch). */
  curve: number[];
  seconds: number;
  /** Frees the merged attn2 weights (the original model is untouched). */
  release(): void;
}

/** Trains the warm-up LoRA and merges it into a copy of the model's weight map. */
export async function warmUpBase(ctx: GpuContext, m: CidmModel, tokenizers: readonly ClipTokenizer[], schedule: NoiseScheduleConfig, o: WarmupOptions): Promise<WarmBase> {
  const t0 = performance.now();
  if (o.steps === 0) return { model: m, curve: [], seconds: 0, release: () => {} };
  const shape = { ...cidmShape(m.unet.arch, 1, o.rank, m.encoders.map((te) => te.config.hiddenSize)), targets: warmupTargets(m, o.scope) };
  const ids = m.encoders.map((te, k) => conceptCaptionIds(tokenizers[k]!, WARMUP_CAPTION, [UNUSED_PLACEHOLDER], te.config.vocabSize).ids);
  const px = o.latent * 8;
  const C = m.unet.arch.inChannels;
  const n = o.latent;
  const B = o.batch;
  // Fresh objects for every step: the base learns the kind, it cannot memorise any one colour.
  const photos = syntheticWarmupPhotos({ channels: C, latent: n, photos: o.steps * B, seed: o.seed, amplitude: o.amplitude });
  const timeIds = m.unet.arch.addition ? Array.from({ length: B }, () => [px, px, 0, 0, px, px]).flat() : undefined;
  const noiser = new DdpmNoiser(schedule);
  const lossScale = m.dtype === 'f16' ? 1024 : 1;
  const p = createCidmParams(ctx, shape);
  const curve: number[] = [];
  const lora: Concept['lora'] = new Map();
  // The weights the warm-up's forward reads: the model's, with the interim readouts swapped in.
  const weights = new Map(m.unet.weights);
  const trained: CidmModel = { ...m, unet: { ...m.unet, weights } };
  let interim: [string, Tensor][] = [];
  try {
    const rng = new NoiseStream(o.seed, 0x0c060000);
    for (const t of shape.targets) {
      p.lora.write(ctx, 'param', downName(t.module), initLoraDown(rng, o.rank, t.inFeatures));
      p.lora.write(ctx, 'param', upName(t.module), initLoraUp(t.outFeatures, o.rank));
    }
    await p.lora.resetMoments(ctx);
    const adam = new AdamW([{ name: 'lora', params: p.lora, lr: o.lr, weightDecay: 0 }]);
    for (let k = 0; k < o.steps; k++) {
      o.signal?.throwIfAborted();
      const { x0, masks } = stackBatch(photos.slice(k * B, (k + 1) * B), C, n);
      const draw = drawTrainingNoise(o.seed, k, [B, C, n, n], noiser.numTrainTimesteps, CIDM_NOISE_OFFSET);
      await p.lora.zeroGrads(ctx);
      await p.tokens.zeroGrads(ctx);
      const noisy = ctx.upload(noiser.addNoise(x0, draw.noise, B, draw.timesteps), [B, C, n, n], m.dtype, 'warm-up noisy');
      const target = ctx.upload(draw.noise, [B, C, n, n], m.dtype, 'warm-up target');
      const f = await cidmForward(ctx, trained, p, { noisy, timesteps: draw.timesteps, timeIds, ids }, { lossScale, checkpointing: false });
      f.tape.release(noisy);
      const mask = prepareLossMask(ctx, masks, [B, 1, n, n]);
      const loss = await maskedEpsMse(ctx, f.pred.t, target, mask, { gradScale: lossScale });
      ctx.release(target, mask.tensor);
      await cidmBackward(ctx, f, loss.grad);
      const value = assertFiniteLoss((await ctx.read(loss.loss))[0]!, k + 1, 'warm-up loss');
      ctx.release(loss.loss);
      await adam.step(ctx, (g) => linearDecayLr(g.lr, k, o.steps));
      if (o.readoutBatches && o.readoutEvery && (k + 1) % o.readoutEvery === 0 && k + 1 < o.steps) {
        // EM-like: the readout follows the features the LoRA has made so far, the LoRA then trains against it
        const next = await refitReadout(ctx, trained, ids, schedule, o, p, k + 1);
        ctx.release(...interim.map(([, t]) => t));
        interim = next;
        for (const [name, t] of next) weights.set(name, t);
      }
      curve.push(value);
      o.onProgress?.(k + 1, value);
    }
    for (const t of shape.targets) {
      lora.set(t.module, { down: await p.lora.read(ctx, 'param', downName(t.module)), up: await p.lora.read(ctx, 'param', upName(t.module)), inFeatures: t.inFeatures, outFeatures: t.outFeatures });
    }
  } finally {
    destroyCidmParams(ctx, p);
    // the final readout is refit on the folded model below; the interim ones (if any) are superseded
    ctx.release(...interim.map(([, t]) => t));
    for (const name of interim.map(([n]) => n)) weights.set(name, m.unet.weights.get(name)!);
  }
  // W0 + 1·U·D in every adapted linear: fold.ts with one "concept" of weight 1 at scale 1 (on top of the
  // model's weights; the readout is refit after the fold).
  const bank = createLoraBank(ctx, shape.targets, [{ name: 'warm-up', rank: o.rank, lora } as Concept], m.dtype);
  try {
    const folded = await foldEwa(ctx, trained.unet.weights, bank, [[1]], { scale: 1 });
    await ctx.flush(); // the fold's recorded dispatches read the bank: submit them before it is destroyed
    const model: CidmModel = { ...m, unet: { ...m.unet, weights: new Map(folded.weights) } };
    const readout = o.readoutBatches ? await refitReadout(ctx, model, ids, schedule, o) : [];
    for (const [name, t] of readout) model.unet.weights.set(name, t);
    const release = () => {
      folded.release();
      ctx.release(...readout.map(([, t]) => t));
    };
    return { model, curve, seconds: (performance.now() - t0) / 1000, release };
  } finally {
    bank.destroy();
  }
}

/**
 * conv_out refit in closed form on the warmed model's features (readout-fit.ts): `readoutBatches` batches
 * of fresh objects (another seed than the warm-up's), each at fresh timesteps and noise, through the
 * model with its conv_out input tapped. Returns the new conv_out weight and bias (the caller's to free).
 */
async function refitReadout(
  ctx: GpuContext, m: CidmModel, ids: number[][], schedule: NoiseScheduleConfig, o: WarmupOptions, lora?: CidmParams, round = 0,
): Promise<[string, Tensor][]> {
  const wName = 'conv_out.weight';
  const bName = 'conv_out.bias';
  const w0 = m.unet.weights.get(wName);
  if (!w0 || w0.shape.length !== 4) throw new RangeError(`the readout refit needs the UNet's ${wName}`);
  const [O, Cin, k] = [w0.shape[0]!, w0.shape[1]!, w0.shape[2]!];
  const C = m.unet.arch.inChannels;
  const n = o.latent;
  const B = o.batch;
  const px = n * 8;
  const timeIds = m.unet.arch.addition ? Array.from({ length: B }, () => [px, px, 0, 0, px, px]).flat() : undefined;
  const noiser = new DdpmNoiser(schedule);
  const fit = new ReadoutFit(Cin, O, k);
  const seed = o.seed + 0x5eed + 7919 * round;
  const photos = syntheticWarmupPhotos({ channels: C, latent: n, photos: o.readoutBatches! * B, seed, amplitude: o.amplitude });
  // No LoRA, no concept: a zero parameter set (WebGPU buffers start zeroed) only satisfies cidmForward.
  const p = lora ?? createCidmParams(ctx, cidmShape(m.unet.arch, 1, 1, m.encoders.map((te) => te.config.hiddenSize)));
  try {
    for (let k2 = 0; k2 < o.readoutBatches!; k2++) {
      o.signal?.throwIfAborted();
      const { x0, masks } = stackBatch(photos.slice(k2 * B, (k2 + 1) * B), C, n);
      const draw = drawTrainingNoise(seed, k2, [B, C, n, n], noiser.numTrainTimesteps, CIDM_NOISE_OFFSET);
      const noisy = ctx.upload(noiser.addNoise(x0, draw.noise, B, draw.timesteps), [B, C, n, n], m.dtype, 'readout noisy');
      let features: Float32Array | null = null;
      const taps = new Map([[w0, async (x: Tensor) => void (features = await ctx.read(x))]]);
      const f = await cidmForward(ctx, m, p, { noisy, timesteps: draw.timesteps, timeIds, ids }, { checkpointing: false, taps });
      f.tape.release(noisy);
      f.dispose();
      if (!features) throw new Error('the readout refit never saw conv_out run');
      fit.add(features, draw.noise, masks, B, n, n);
    }
  } finally {
    if (!lora) destroyCidmParams(ctx, p);
  }
  const { weight, bias } = fit.solve();
  return [
    [wName, ctx.upload(weight, w0.shape, w0.dtype, `${wName} (refit)`)],
    [bName, ctx.upload(bias, [O], w0.dtype, `${bName} (refit)`)],
  ];
}
