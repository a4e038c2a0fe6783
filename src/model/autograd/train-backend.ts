/**
 * The training backend: the UNet and text-encoder backend interfaces on the WGSL kernels, recording a
 * tape (tape.ts) of every op whose inputs need a gradient. Frozen weights never get one (no dW is ever
 * computed); an op on inputs that need none is not recorded, so the backward ends by itself below the
 * first tensor a trainable value reaches (the first cross-attention layer, or, through SDXL's pooled
 * text embedding and the time embedding, the resnets that read it).
 *
 * One instance per model (UNet, each text encoder) over one shared Tape: the text encoders' outputs feed
 * the UNet, and a single backward from the loss runs through all three.
 */
import type { GpuContext } from '../../gpu/context';
import { numel, sameShape, type DType, type Tensor } from '../../gpu/tensor';
import { attention } from '../../ops/attention';
import { concat, concatChannels } from '../../ops/concat';
import { conv2d } from '../../ops/conv2d';
import { add, silu, unary, type Activation } from '../../ops/elementwise';
import { embedding, type EmbeddingBlock } from '../../ops/embedding';
import { geglu } from '../../ops/geglu';
import { linear as linearOp } from '../../ops/linear';
import { matmul } from '../../ops/matmul';
import { groupNorm, layerNorm } from '../../ops/norm';
import { stridedCopy } from '../../ops/strided-copy';
import { timestepEmbedding } from '../../ops/timestep-embedding';
import { imageToTokens, tokensToImage } from '../../ops/transpose';
import { upsampleNearest } from '../../ops/upsample';
import { attentionBackward, attentionForwardWithStats } from '../../ops/backward/attention-backward';
import { conv2dInputGrad } from '../../ops/backward/conv2d-backward';
import { upsampleNearestBackward, splitChannels, splitLast, reduceToShape } from '../../ops/backward/data-backward';
import { groupNormBackward, layerNormBackward } from '../../ops/backward/norm-backward';
import { activationBackward, BACKWARD_ACTIVATIONS, gegluBackward, type BackwardActivation } from '../../ops/backward/activation-backward';
import { embeddingRowsBackward, scatterRows } from '../../ops/backward/embedding-backward';
import { ModelFileError } from '../errors';
import type { UNetBackend } from '../unet/backend';
import type { TextEncoderBackend } from '../text-encoder/backend';
import { zeros, type Tape, type Var } from './tape';
import { accumulateInto, loraLinearBackward, type TrainableLora, type TrainableRows } from './trainable';

function backwardActivation(act: Activation): BackwardActivation {
  if (!(BACKWARD_ACTIVATIONS as readonly string[]).includes(act)) throw new RangeError(`training: no backward for the activation '${act}'`);
  return act as BackwardActivation;
}


export interface TrainBackendOptions {
  /** Gradient checkpointing per resnet/transformer block (default true). */
  checkpointing?: boolean;
  /** LoRA on frozen weights, keyed by the weight tensor. */
  lora?: ReadonlyMap<Tensor, TrainableLora>;
  /** Reads a convolution's input as the forward passes it, keyed by the conv's weight tensor (the forgetting warm-up's readout fit). */
  taps?: ReadonlyMap<Tensor, (x: Tensor) => Promise<void>>;
  /** Learned token rows, keyed by their compute tensor. */
  rows?: ReadonlyMap<Tensor, TrainableRows>;
  label?: string;
}

export class TrainBackend implements UNetBackend<Var>, TextEncoderBackend<Var> {
  private readonly weights = new Map<string, Var>();
  private readonly ctx: GpuContext;
  /** Set when a trainable tensor was read since the flag was cleared (checkpoint()). */
  private touchedTrainable = false;
  /** Gradient accumulators shared by several nodes (layerContext), by the Var they belong to. */
  private readonly sharedGrads = new Map<number, Tensor>();

  constructor(
    readonly tape: Tape,
    private readonly weightTensors: ReadonlyMap<string, Tensor>,
    readonly dtype: DType,
    private readonly o: TrainBackendOptions = {},
  ) {
    this.ctx = tape.ctx;
  }

  /** A constant or input tensor (no gradient) or a trainable leaf. */
  input(t: Tensor, requiresGrad = false): Var {
    return this.tape.wrap(t, requiresGrad);
  }

  weight(name: string): Var {
    let v = this.weights.get(name);
    if (!v) {
      const t = this.weightTensors.get(name);
      if (!t) throw new ModelFileError('missing-tensor', this.o.label ?? 'model', 'training needs this weight', name);
      v = this.tape.wrap(t, false);
      this.weights.set(name, v);
    }
    return v;
  }
  hasWeight(name: string): boolean {
    return this.weightTensors.has(name);
  }

  private out(t: Tensor, inputs: (Var | null)[], held: Tensor[], bw: (dY: Tensor) => Promise<(Tensor | null)[]>): Var {
    return this.tape.tracks(...inputs) ? this.tape.record(t, inputs, held, bw) : this.tape.wrap(t, false);
  }

  timestepEmbedding(ts: readonly number[], dim: number, flipSinToCos: boolean, shift: number): Var {
    // CPU in f64 (SwiftShader's WGSL sin/cos are ~2e-4 off; DESIGN.md "one numerical trap").
    return this.input(this.ctx.upload(timestepEmbedding(ts, dim, { flipSinToCos, downscaleFreqShift: shift }), [ts.length, dim], this.dtype, 'timestep-embedding'));
  }

  async conv2d(x: Var, w: Var, b: Var | null, o: { stride: 1 | 2; padding: 0 | 1; residual?: Var }): Promise<Var> {
    await this.o.taps?.get(w.t)?.(x.t);
    const y = await conv2d(this.ctx, x.t, w.t, { stride: o.stride, padding: o.padding, bias: b?.t ?? null, residual: o.residual?.t ?? null });
    const [H, W] = [x.shape[2]!, x.shape[3]!];
    return this.out(y, [x, o.residual ?? null], [], async (dY) => [
      x.requiresGrad ? await conv2dInputGrad(this.ctx, dY, w.t, { stride: o.stride, padding: o.padding, inputSize: [H, W] }) : null,
      o.residual?.requiresGrad ? dY : null,
    ]);
  }

  async groupNorm(x: Var, g: Var, b: Var, o: { groups: number; eps: number; silu: boolean }): Promise<Var> {
    const y = await groupNorm(this.ctx, x.t, g.t, b.t, o);
    return this.out(y, [x], [x.t], async (dY) => [(await groupNormBackward(this.ctx, x.t, dY, g.t, b.t, o)).dx]);
  }

  async layerNorm(x: Var, g: Var, b: Var, eps: number): Promise<Var> {
    const y = await layerNorm(this.ctx, x.t, g.t, b.t, { eps });
    return this.out(y, [x], [x.t], async (dY) => [(await layerNormBackward(this.ctx, x.t, dY, g.t, { eps })).dx]);
  }

  async linear(x: Var, w: Var, b: Var | null, residual?: Var): Promise<Var> {
    const lora = this.o.lora?.get(w.t);
    const [outF, inF] = w.shape as [number, number];
    const rows = numel(x.shape) / inF;
    const x2: Tensor = { ...x.t, shape: [rows, inF] };
    let y = await linearOp(this.ctx, x2, w.t, b?.t);
    if (lora) {
      this.touchedTrainable = true;
      const xd = await matmul(this.ctx, x2, lora.down, { transB: true, label: 'lora-down' });
      const delta = await matmul(this.ctx, xd, lora.up, { transB: true, alpha: lora.alpha, label: 'lora-up' });
      this.ctx.release(xd);
      await stridedCopy(this.ctx, delta, y, { rows: 1, cols: rows * outF, accumulate: true });
      this.ctx.release(delta);
    }
    y = { ...y, shape: [...x.shape.slice(0, -1), outF] };
    if (residual) {
      const sum = await add(this.ctx, y, residual.t);
      this.ctx.release(y);
      y = sum;
    }
    const recordAnyway = lora !== undefined && this.tape.recording;
    const inputs = [x, residual ?? null];
    if (!this.tape.tracks(...inputs) && !recordAnyway) return this.tape.wrap(y, false);
    return this.tape.record(y, inputs, lora ? [x.t] : [], async (dY) => {
      const d2: Tensor = { ...dY, shape: [rows, outF] };
      const dx = lora
        ? await loraLinearBackward(this.ctx, x2, d2, w.t, lora, x.requiresGrad)
        : x.requiresGrad
          ? await matmul(this.ctx, d2, w.t, { label: 'linear-bw-dx' })
          : null;
      return [dx ? { ...dx, shape: x.shape } : null, residual?.requiresGrad ? dY : null];
    });
  }

  async attention(q: Var, k: Var, v: Var, heads: number, causal = false): Promise<Var> {
    if (!this.tape.tracks(q, k, v)) return this.tape.wrap(await attention(this.ctx, q.t, k.t, v.t, { heads, causal }), false);
    const { out, lse } = await attentionForwardWithStats(this.ctx, q.t, k.t, v.t, { heads, causal });
    const node = this.tape.record(out, [q, k, v], [q.t, k.t, v.t, out, lse], async (dY) => {
      const g = await attentionBackward(this.ctx, { q: q.t, k: k.t, v: v.t, out, dOut: dY, lse }, { heads, causal });
      return [q.requiresGrad ? g.dq : (this.ctx.release(g.dq), null), k.requiresGrad ? g.dk : (this.ctx.release(g.dk), null), v.requiresGrad ? g.dv : (this.ctx.release(g.dv), null)];
    });
    // lse belongs to the node alone: the forward never sees it, so it is released now and freed with the node.
    this.tape.release(lse);
    return node;
  }

  regionalAttention(): Promise<Var> {
    throw new Error('regional attention is an inference path; training runs plain cross-attention');
  }

  async geglu(h: Var): Promise<Var> {
    const y = await geglu(this.ctx, h.t);
    return this.out(y, [h], [h.t], async (dY) => [await gegluBackward(this.ctx, h.t, dY)]);
  }

  async silu(x: Var): Promise<Var> {
    const y = await silu(this.ctx, x.t);
    return this.out(y, [x], [x.t], async (dY) => [await activationBackward(this.ctx, 'silu', x.t, dY)]);
  }

  async activation(act: Activation, x: Var): Promise<Var> {
    const y = await unary(this.ctx, act, x.t);
    return this.out(y, [x], [x.t], async (dY) => [await activationBackward(this.ctx, backwardActivation(act), x.t, dY)]);
  }

  async add(a: Var, b: Var): Promise<Var> {
    const y = await add(this.ctx, a.t, b.t);
    const grad = async (dY: Tensor, v: Var) => (!v.requiresGrad ? null : sameShape(v.shape, dY.shape) ? dY : await reduceToShape(this.ctx, dY, v.shape));
    return this.out(y, [a, b], [], async (dY) => [await grad(dY, a), await grad(dY, b)]);
  }

  async upsampleNearest(x: Var, height: number, width: number): Promise<Var> {
    const y = await upsampleNearest(this.ctx, x.t, { outputSize: [height, width] });
    return this.out(y, [x], [], async (dY) => [await upsampleNearestBackward(this.ctx, dY, [x.shape[2]!, x.shape[3]!])]);
  }

  async concatChannels(a: Var, b: Var): Promise<Var> {
    const y = await concatChannels(this.ctx, a.t, b.t);
    return this.out(y, [a, b], [], async (dY) => {
      const [da, db] = await splitChannels(this.ctx, dY, [a.shape[1]!, b.shape[1]!]);
      return [a.requiresGrad ? da! : (this.ctx.release(da!), null), b.requiresGrad ? db! : (this.ctx.release(db!), null)];
    });
  }

  async concatLast(a: Var, b: Var): Promise<Var> {
    const y = await concat(this.ctx, [a.t, b.t], a.shape.length - 1);
    return this.out(y, [a, b], [], async (dY) => {
      const [da, db] = await splitLast(this.ctx, dY, [a.shape[a.shape.length - 1]!, b.shape[b.shape.length - 1]!]);
      return [a.requiresGrad ? da! : (this.ctx.release(da!), null), b.requiresGrad ? db! : (this.ctx.release(db!), null)];
    });
  }

  async toTokens(x: Var): Promise<Var> {
    const y = await imageToTokens(this.ctx, x.t);
    return this.out(y, [x], [], async (dY) => [await tokensToImage(this.ctx, dY, x.shape[2]!, x.shape[3]!)]);
  }

  async fromTokens(t: Var, height: number, width: number, residual?: Var): Promise<Var> {
    const y = await tokensToImage(this.ctx, t.t, height, width, residual?.t);
    if (!residual) return this.out(y, [t], [], async (dY) => [await imageToTokens(this.ctx, dY)]);
    // the residual's gradient is the output's, unchanged (as add's for operands of one shape)
    return this.out(y, [t, residual], [], async (dY) => [t.requiresGrad ? await imageToTokens(this.ctx, dY) : null, residual.requiresGrad ? dY : null]);
  }

  reshape(x: Var, shape: readonly number[]): Var {
    if (numel(shape) !== numel(x.shape)) throw new RangeError(`reshape [${x.shape}] to [${shape}]`);
    const t: Tensor = { ...x.t, shape: [...shape] };
    if (!this.tape.tracks(x)) return this.tape.wrap(t, false);
    // A view: the gradient flows back reshaped. Held so that the view's buffer stays the base's.
    return this.tape.record(t, [x], [], async (dY) => [{ ...dY, shape: x.shape }]);
  }

  release(...vars: Var[]): void {
    for (const v of vars) this.tape.release(v.t);
  }

  // ---- text encoder ops ----

  async embed(ids: ArrayLike<number>, seq: number, blocks: readonly EmbeddingBlock[], positions: Var, extra?: { rows: Var; start: number }): Promise<Var> {
    const all = extra ? [...blocks, { tensor: extra.rows.t, start: extra.start }] : blocks;
    const y = await embedding(this.ctx, ids, all, { positions: positions.t, seq, label: 'te-embeddings' });
    const trainable = extra ? this.o.rows?.get(extra.rows.t) : undefined;
    if (!extra || !trainable || !this.tape.recording) return this.tape.wrap(y, false);
    const idsCopy = Array.from(ids);
    return this.tape.record(y, [extra.rows], [], async (dY) => {
      const K = extra.rows.shape[0]!;
      await accumulateInto(this.ctx, trainable.grad, await embeddingRowsBackward(this.ctx, idsCopy, dY, extra.start, K), trainable.gradScale);
      return [null];
    });
  }

  async gatherRows(x: Var, rows: readonly number[]): Promise<Var> {
    const y = await embedding(this.ctx, rows, [{ tensor: x.t, start: 0 }], { label: 'gather-rows' });
    const idx = [...rows];
    return this.out(y, [x], [], async (dY) => [await scatterRows(this.ctx, dY, idx, x.shape[0]!)]);
  }

  /**
   * Row `l` of E [L, T, C] repeated over a batch of `batch`: the K/V input of cross-attention layer l
   * (spec §1.4: layer l reads its own prompt's states, broadcast over the images). The backward sums
   * over the batch straight into one shared gradient of E (allocated by the last layer's backward, which
   * runs first), so L layers cost one E-sized gradient, not L.
   */
  async layerContext(E: Var, l: number, batch: number): Promise<Var> {
    const [L, T, C] = E.shape as [number, number, number];
    if (!Number.isInteger(l) || l < 0 || l >= L) throw new RangeError(`layer context ${l} of ${L}`);
    const y = this.ctx.empty([batch, T, C], E.dtype, `layer-context-${l}`);
    for (let b = 0; b < batch; b++) await stridedCopy(this.ctx, E.t, y, { rows: 1, cols: T * C, srcOffset: l * T * C, dstOffset: b * T * C });
    return this.out(y, [E], [], async (dY) => {
      let acc = this.sharedGrads.get(E.id);
      const first = !acc;
      if (!acc) {
        acc = await zeros(this.ctx, E.shape, E.dtype, 'layer-contexts-grad');
        this.sharedGrads.set(E.id, acc);
      }
      for (let b = 0; b < batch; b++) await stridedCopy(this.ctx, dY, acc, { rows: 1, cols: T * C, srcOffset: b * T * C, dstOffset: l * T * C, accumulate: true });
      // Only the first call hands the accumulator to the tape; later calls add into it in place.
      return [first ? acc : null];
    });
  }

  // ---- checkpointing ----

  async checkpoint(_name: string, inputs: readonly Var[], run: (inputs: readonly Var[]) => Promise<Var>): Promise<Var> {
    if (!this.tape.recording || this.o.checkpointing === false) return run(inputs);
    const tape = this.tape;
    for (const v of inputs) tape.hold(v.t); // a consuming block must not free what the recompute reads
    tape.recording = false;
    const before = this.touchedTrainable;
    this.touchedTrainable = false;
    let first: Var;
    try {
      first = await run(inputs);
    } finally {
      tape.recording = true;
    }
    // Short submissions (Windows resets a GPU whose submitted work runs ~2 s): each block's forward is
    // submitted on its own, without waiting, so no submission holds more than one block.
    void this.ctx.submit();
    const trainable = this.touchedTrainable;
    this.touchedTrainable ||= before;
    const needs = trainable || inputs.some((v) => v.requiresGrad);
    const node = needs
      ? tape.record(first.t, [...inputs], inputs.map((v) => v.t), async (dOut) => {
          const from = tape.length;
          const fresh = inputs.map((v) => tape.wrap(v.t, v.requiresGrad));
          tape.pin(fresh.map((v) => v.t));
          try {
            const again = await run(fresh);
            const grads = await tape.backward(again, dOut, fresh, from, false);
            tape.release(again.t);
            void this.ctx.submit(); // one block's recompute + backward per submission
            return fresh.map((v) => grads.get(v.id) ?? null);
          } finally {
            tape.unpin(fresh.map((v) => v.t));
          }
        })
      : tape.wrap(first.t, false);
    for (const v of inputs) tape.unhold(v.t);
    return node;
  }
}
