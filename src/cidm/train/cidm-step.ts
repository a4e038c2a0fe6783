/**
 * One CIDM training step's forward and backward (spec §9.1; golden-training README "The CIDM step"):
 *
 *  1. layer-wise prompts: the caption's ids once per cross-attention layer l, placeholder j → learned
 *     row l·P + j, through BOTH text encoders as one batch of L sequences;
 *  2. E = cat(te1.hidden_states[-2], te2.hidden_states[-2]) [L, 77, C]; attn2 number l reads row l
 *     (broadcast over the images); the pooled text_embeds come from te2 on the layer-0 prompt, pooled at
 *     the EOS token (NOT transformers' argmax, which would pick a placeholder id > 49407);
 *  3. the UNet with a LoRA on every attn2 q/k/v/out, on the noisy latents;
 *  4. dL/dε̂ from the diffusion loss, then one backward over the shared tape through the UNet and both
 *     text encoders into the f32 gradient slots of the LoRA and token groups.
 *
 * The forward is the project's one forward (unetForward, textEncoderForwardOn) on the training backend.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType, Tensor } from '../../gpu/tensor';
import { stridedCopy } from '../../ops/strided-copy';
import { Tape, type Var } from '../../model/autograd/tape';
import { TrainBackend } from '../../model/autograd/train-backend';
import type { TrainableLora, TrainableRows } from '../../model/autograd/trainable';
import type { LoadedTextEncoder } from '../../model/text-encoder/load';
import { textEncoderForwardOn } from '../../model/text-encoder/forward';
import type { LoadedUNet } from '../../model/unet/load';
import { unetForward } from '../../model/unet/forward';
import { downName, tokenName, upName, type CidmParams } from './cidm-params';
import { layerwiseIds } from './layers';

export interface CidmModel {
  unet: LoadedUNet;
  /** The text encoders in SDXL order (CLIP-L, then OpenCLIP-bigG with the projection); one for SD-1.5. */
  encoders: readonly LoadedTextEncoder[];
  dtype: DType;
}

export interface CidmStepInputs {
  /** Noisy latents z_t [B, C, h, w] (noising.ts) on the GPU in the model dtype. */
  noisy: Tensor;
  timesteps: readonly number[];
  /** SDXL micro-conditioning, 6 per image (omit for SD-1.5). */
  timeIds?: readonly number[];
  /** The caption's ids per encoder (77 each), placeholder j written as vocab_size + j. */
  ids: readonly (readonly number[])[];
}

export interface CidmForward {
  tape: Tape;
  /** ε̂ [B, C, h, w] */
  pred: Var;
  /** The layer-wise text states E [L, 77, C] and the pooled embedding [1, proj] (taps for checks). */
  states: Var;
  pooled: Var | null;
  /** Frees the compute copies made for this step (after the backward). */
  dispose(): void;
}

export interface CidmStepOptions {
  /** Gradient checkpointing per block (default true). */
  checkpointing?: boolean;
  /** Multiplies dL/dε̂ before the backward; gradients are divided by it on accumulation (f16). */
  lossScale?: number;
  /** LoRA scale α in y = Wx + α·U·D·x (CIDM trains with α = 1, spec §1.3). */
  loraAlpha?: number;
  /** Reads UNet convolutions' inputs, keyed by the conv's weight tensor (the forgetting warm-up's readout fit). */
  taps?: ReadonlyMap<Tensor, (x: Tensor) => Promise<void>>;
}

/** The activation-dtype copy a forward reads of an f32 master tensor (the master itself in f32). */
async function computeCopy(ctx: GpuContext, master: Tensor, dtype: DType, scratch: Tensor[]): Promise<Tensor> {
  if (dtype === 'f32') return master;
  const c = ctx.empty(master.shape, dtype, `${master.buffer.label}-compute`);
  await stridedCopy(ctx, master, c, { rows: 1, cols: master.shape.reduce((a, b) => a * b, 1) });
  scratch.push(c);
  return c;
}

export async function cidmForward(ctx: GpuContext, m: CidmModel, p: CidmParams, inp: CidmStepInputs, o: CidmStepOptions = {}): Promise<CidmForward> {
  const s = p.shape;
  const B = inp.noisy.shape[0]!;
  if (inp.timesteps.length !== B) throw new RangeError(`${inp.timesteps.length} timesteps for ${B} images`);
  if (inp.ids.length !== m.encoders.length) throw new RangeError(`${inp.ids.length} id lists for ${m.encoders.length} text encoders`);
  const gradScale = 1 / (o.lossScale ?? 1);
  const scratch: Tensor[] = [];
  const tape = new Tape(ctx);

  // LoRA on every attn2 linear, keyed by the frozen weight tensor the UNet backend sees.
  const lora = new Map<Tensor, TrainableLora>();
  for (const t of s.targets) {
    const w = m.unet.weights.get(t.weight);
    if (!w) throw new RangeError(`the UNet has no ${t.weight} to put a LoRA on`);
    lora.set(w, {
      down: await computeCopy(ctx, p.lora.view('param', downName(t.module)), m.dtype, scratch),
      up: await computeCopy(ctx, p.lora.view('param', upName(t.module)), m.dtype, scratch),
      alpha: o.loraAlpha ?? 1,
      gradDown: p.lora.view('grad', downName(t.module)),
      gradUp: p.lora.view('grad', upName(t.module)),
      gradScale,
    });
  }

  // 1–2. Layer-wise prompts through every text encoder as one batch of L sequences.
  const hidden: Var[] = [];
  let pooled: Var | null = null;
  for (const [k, te] of m.encoders.entries()) {
    const master = p.tokens.view('param', tokenName(k));
    const rowsShape = [s.layers * s.placeholders, te.config.hiddenSize];
    const rowsT = { ...(await computeCopy(ctx, master, m.dtype, scratch)), shape: rowsShape };
    const rows: TrainableRows = { rows: rowsT, vocabStart: te.config.vocabSize, grad: { ...p.tokens.view('grad', tokenName(k)), shape: rowsShape }, gradScale };
    const be = new TrainBackend(tape, te.weights, m.dtype, { rows: new Map([[rowsT, rows]]), checkpointing: o.checkpointing, label: `text_encoder ${k + 1}` });
    const ids = layerwiseIds(inp.ids[k]!, te.config.vocabSize, s.placeholders, s.layers);
    const L = te.config.numHiddenLayers;
    // SDXL (two encoders, the last with a projection) reads hidden_states[-2] of both and pools the last
    // one; a single-encoder model (SD-1.5) reads last_hidden_state (CIDM's released code, spec §1.4).
    const pooling = k === m.encoders.length - 1 && te.config.withProjection;
    const lastState = m.encoders.length === 1 && !te.config.withProjection;
    const out = await textEncoderForwardOn(be, te, ids, {
      extra: be.input(rowsT, true),
      // CLIP's vocabularies end with <|startoftext|>, <|endoftext|>: the EOS id is vocab_size − 1.
      ...(pooling ? { hiddenStates: [L - 1], pooling: 'eos' as const, eosId: te.config.vocabSize - 1 } : lastState ? {} : { hiddenStates: [L - 1], layers: L - 1, final: false }),
    });
    if (lastState) {
      hidden.push(out.lastHiddenState!);
      be.release(out.pooled!);
    } else {
      hidden.push(out.hiddenStates.get(L - 1)!);
    }
    if (pooling) {
      be.release(out.lastHiddenState!, out.pooled!);
      pooled = out.textEmbeds;
    }
  }

  const unetBe = new TrainBackend(tape, m.unet.weights, m.dtype, { lora, ...(o.taps ? { taps: o.taps } : {}), checkpointing: o.checkpointing, label: 'unet' });
  let states = hidden[0]!;
  for (const h of hidden.slice(1)) {
    const cat = await unetBe.concatLast(states, h);
    unetBe.release(states, h);
    states = cat;
  }
  const contexts: Var[] = [];
  for (let l = 0; l < s.layers; l++) contexts.push(await unetBe.layerContext(states, l, B));
  // The pooled embedding of the layer-0 prompt, for every image (spec §7).
  const pooledB = pooled ? await unetBe.gatherRows(pooled, Array(B).fill(0)) : null;
  const pooled0 = pooled ? await unetBe.gatherRows(pooled, [0]) : null;
  if (pooled) unetBe.release(pooled);

  // 3. The UNet (attn2 l reads contexts[l]; encoderHiddenStates is then unused).
  const pred = await unetForward(unetBe, m.unet.arch, {
    sample: unetBe.input(inp.noisy),
    timesteps: inp.timesteps,
    encoderHiddenStates: contexts[0]!,
    layerContexts: contexts,
    ...(pooledB ? { textEmbeds: pooledB, timeIds: inp.timeIds } : {}),
  });
  unetBe.release(...contexts);
  if (pooledB) unetBe.release(pooledB);
  return {
    tape,
    pred,
    states,
    pooled: pooled0,
    dispose: () => {
      tape.clear();
      ctx.releaseLive(...scratch);
    },
  };
}

/**
 * The backward from dL/dε̂ (consumed; already multiplied by the loss scale): accumulates into the f32
 * gradient slots of `p` (zero them first for a fresh step) and frees the step's tensors.
 */
export async function cidmBackward(ctx: GpuContext, f: CidmForward, dPred: Tensor): Promise<void> {
  try {
    // The taps are the caller's to read before this; released here so the backward frees their holds.
    f.tape.release(f.states.t);
    if (f.pooled) f.tape.release(f.pooled.t);
    const rest = await f.tape.backward(f.pred, dPred);
    for (const g of rest.values()) ctx.release(g);
    f.tape.release(f.pred.t);
  } finally {
    f.dispose();
  }
}
