/**
 * The train suite's SDXL-width block rows: a BasicTransformerBlock (640 channels, 10 heads, cross dim
 * 2048, 77 context tokens) with a rank-4 LoRA on its attn2 q/k/v/out, and a ResnetBlock2D (640 → 640,
 * temb 1280), batch 1 as in training. Each runs through the project's one block code (forward.ts
 * basicBlock / resnet) on the training backend inside TrainBackend.checkpoint, as unetForward runs it:
 * forward not recording, then the backward recomputes the block with recording and differentiates it,
 * from a seeded random dL/dout, into d input, d context (or d temb) and the LoRA gradients.
 * Weights: the blocks suite's sidecars (bench/models/*.json) with their suggested seeded init.
 */
import type { GpuContext } from '../src/gpu/context';
import type { Tensor } from '../src/gpu/tensor';
import { Tape, type Var } from '../src/model/autograd/tape';
import { TrainBackend } from '../src/model/autograd/train-backend';
import type { TrainableLora } from '../src/model/autograd/trainable';
import type { UNetArch } from '../src/model/unet/arch';
import type { TensorRef, UNetBackend } from '../src/model/unet/backend';
import { basicBlock, resnet } from '../src/model/unet/forward';
import { GpuUNetBackend } from '../src/model/unet/gpu-backend';
import { makeInput, type Sidecar } from './inputs';
import type { TrainCase } from './train';
import { describeGrad, gaussian } from './train-util';

const RANK = 4;
const RESNET_ARCH = { groups: 32, eps: 1e-5 } as UNetArch;

/** A block on any backend: x is its main input (consumed when the case says so), e its second one. */
type BlockFn = <T extends TensorRef>(be: UNetBackend<T>, x: T, e: T) => Promise<T>;

interface BlockSpec {
  op: string;
  model: string;
  shape: string;
  /** The sidecar whose weight inputs (names and init) the block uses. */
  sidecar: string;
  x: number[];
  e: number[];
  /** Whether the block frees x (basicBlock does; the bench then hands it a fresh copy per run). */
  consumes: boolean;
  /** attn2 linears that get a LoRA. */
  loraOn: string[];
  run: BlockFn;
}

function persistentFrom(ctx: GpuContext, data: Float32Array, shape: number[], label: string): Tensor {
  const t = ctx.persistent(shape, 'f32', label);
  ctx.write(t, data);
  return t;
}

async function blockCase(ctx: GpuContext, s: BlockSpec): Promise<TrainCase> {
  const meta = (await (await fetch(`/bench/models/${s.sidecar}.json`)).json()) as Sidecar;
  const weights = new Map<string, Tensor>();
  meta.inputs.forEach((input, i) => {
    if (input.role === 'weight') weights.set(`blk.${input.name}`, persistentFrom(ctx, makeInput(input, 1234 + i), input.shape as number[], input.name));
  });
  const owned: Tensor[] = [...weights.values()];
  const lora = new Map<Tensor, TrainableLora>();
  let seed = 500;
  for (const name of s.loraOn) {
    const w = weights.get(`blk.${name}.weight`)!;
    const [outF, inF] = w.shape as [number, number];
    const entry: TrainableLora = {
      down: persistentFrom(ctx, gaussian(RANK * inF, seed++, 1 / Math.sqrt(inF)), [RANK, inF], `${name}.lora_down`),
      up: persistentFrom(ctx, gaussian(outF * RANK, seed++, 0.05), [outF, RANK], `${name}.lora_up`),
      alpha: 1,
      gradDown: ctx.persistent([RANK, inF], 'f32', `${name}.lora_down grad`),
      gradUp: ctx.persistent([outF, RANK], 'f32', `${name}.lora_up grad`),
      gradScale: 1,
    };
    lora.set(w, entry);
    owned.push(entry.down, entry.up, entry.gradDown, entry.gradUp);
  }
  const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const x = persistentFrom(ctx, gaussian(numel(s.x), 1, 1), s.x, 'block x');
  const eIn = persistentFrom(ctx, gaussian(numel(s.e), 2, 1), s.e, 'block e');
  owned.push(x, eIn);
  const tape = new Tape(ctx);
  const trainBe = new TrainBackend(tape, weights, 'f32', { lora, checkpointing: true, label: s.model });
  const recordBe = new TrainBackend(tape, weights, 'f32', { lora, checkpointing: false, label: s.model });
  const inferBe = new GpuUNetBackend(ctx, weights, 'f32', s.model);
  let dOutSrc: Tensor | null = null;
  let lastGrads: Tensor[] = [];

  const xInput = (): Tensor => {
    if (!s.consumes) return x;
    const copy = ctx.empty(x.shape, 'f32', 'block x copy');
    ctx.copyTensor(x, copy);
    return copy;
  };
  const forward = async (be: TrainBackend): Promise<{ out: Var; xv: Var; ev: Var }> => {
    const xv = be.input(xInput(), true);
    const ev = be.input(eIn, true);
    const out = await be.checkpoint('blk', [xv, ev], ([xi, ei]) => s.run(be, xi!, ei!));
    return { out, xv, ev };
  };
  const discard = (out: Var) => {
    tape.clear();
    tape.release(out.t);
  };
  return {
    op: s.op,
    model: s.model,
    shape: s.shape,
    async step(mark) {
      const { out, xv, ev } = await forward(trainBe);
      await mark();
      dOutSrc ??= persistentFrom(ctx, gaussian(numel(out.shape as number[]), 3, 1), out.shape as number[], 'dL/dout');
      const seedT = ctx.empty(out.shape, 'f32', 'dL/dout copy');
      ctx.copyTensor(dOutSrc, seedT);
      const grads = await tape.backward(out, seedT, [xv, ev]);
      tape.release(out.t);
      ctx.release(...lastGrads);
      lastGrads = [grads.get(xv.id), grads.get(ev.id)].filter((g): g is Tensor => g !== undefined);
    },
    async forward() {
      discard((await forward(trainBe)).out);
    },
    async recordingForward() {
      discard((await forward(recordBe)).out);
    },
    async inference() {
      ctx.release(await s.run(inferBe, xInput(), eIn));
    },
    async check() {
      const parts = await Promise.all(lastGrads.map(async (g, i) => describeGrad(i === 0 ? 'd input' : 'd second input', await ctx.read(g))));
      const first = [...lora.values()][0];
      if (first) parts.push(describeGrad(`${s.loraOn[0]} LoRA up (summed over runs)`, await ctx.read(first.gradUp)));
      if (parts.length < 2) parts.push('MISSING input gradients');
      return parts.join('; ');
    },
    dispose() {
      ctx.release(...lastGrads);
      for (const t of [...owned, ...(dOutSrc ? [dOutSrc] : [])]) ctx.destroyTensor(t);
    },
  };
}

export function transformerTrainCase(ctx: GpuContext, tokens: number): Promise<TrainCase> {
  return blockCase(ctx, {
    op: 'transformer_block',
    model: tokens === 4096 ? 'transformer_block' : 'transformer_block_small',
    shape: `1×${tokens}×640, context 1×77×2048, 10 heads, LoRA r${RANK} on attn2 q/k/v/out`,
    sidecar: tokens === 4096 ? 'transformer_block' : 'transformer_block_small',
    x: [1, tokens, 640],
    e: [1, 77, 2048],
    consumes: true,
    loraOn: ['attn2.to_q', 'attn2.to_k', 'attn2.to_v', 'attn2.to_out.0'],
    run: (be, h, c) => basicBlock(be, 'blk', { heads: 10 }, h, c),
  });
}

export function resnetTrainCase(ctx: GpuContext, side: number): Promise<TrainCase> {
  return blockCase(ctx, {
    op: 'resnet',
    model: side === 64 ? 'resnet' : 'resnet_small',
    shape: `1×640×${side}×${side}, temb 1×1280`,
    sidecar: side === 64 ? 'resnet' : 'resnet_small',
    x: [1, 640, side, side],
    // stands for silu(temb), what unetForward hands every resnet (the SiLU runs once per UNet step)
    e: [1, 1280],
    consumes: false,
    loraOn: [],
    run: (be, x, e) => resnet(be, RESNET_ARCH, { prefix: 'blk', cin: 640, cout: 640, shortcut: false }, x, e, false),
  });
}
