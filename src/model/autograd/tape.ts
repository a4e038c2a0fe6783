/**
 * Reverse-mode autodiff over GPU tensors: a tape of nodes recorded by the training backend
 * (train-backend.ts) while the one and only forward code (UNet, text encoders) runs on it.
 *
 * Why a tape and not a backward beside each block: the forward is already written once over a backend
 * interface; a recording backend turns every op into a node with its own backward, so the backward of
 * the UNet and of both text encoders cannot drift from their forwards, and a block with an odd shape
 * (SD-1.5's 1×1 projections, a deeper transformer) differentiates without new code.
 *
 * Memory: the forward code releases each tensor after its last forward use. A node that needs a tensor
 * in its backward *holds* it; a release of a held tensor is deferred until the last hold is dropped
 * (after the node's backward ran). Gradient checkpointing (checkpoint()) runs a block without
 * recording, holds only its inputs, and re-runs it with recording inside the backward, so a block's
 * activations live only while that block is being differentiated (DESIGN.md, "Training").
 */
import type { GpuContext } from '../../gpu/context';
import type { DType, Tensor } from '../../gpu/tensor';
import { fill } from '../../ops/fill';
import { stridedCopy } from '../../ops/strided-copy';
import type { TensorRef } from '../unet/backend';

/** A tensor seen by the autograd: the GPU tensor and whether a trainable value depends on it. */
export interface Var extends TensorRef {
  readonly t: Tensor;
  readonly id: number;
  readonly requiresGrad: boolean;
}

/** Gradients of a node's inputs, in input order (null: that input needs none). */
export type BackwardFn = (dOut: Tensor) => Promise<(Tensor | null)[]>;

interface Node {
  out: Var;
  inputs: readonly (Var | null)[];
  backward: BackwardFn;
  /** Tensors held for the backward; dropped after it ran. */
  held: Tensor[];
}

export class Tape {
  private nextId = 1;
  private nodes: Node[] = [];
  /** Holds per buffer (views share their base's buffer). */
  private readonly holds = new Map<GPUBuffer, number>();
  /** Held buffers that the forward already released: freed when their last hold goes. */
  private readonly deferred = new Map<GPUBuffer, Tensor>();
  /** Inputs of a block being recomputed: the block's own releases of them are ignored. */
  private readonly pinned = new Map<GPUBuffer, number>();
  /** False inside a checkpointed block's first run: nothing is recorded there. */
  recording = true;

  constructor(readonly ctx: GpuContext) {}

  wrap(t: Tensor, requiresGrad: boolean): Var {
    return { t, shape: t.shape, dtype: t.dtype, id: this.nextId++, requiresGrad };
  }

  /** Whether an op on these inputs is recorded (some input needs a gradient, and we are recording). */
  tracks(...inputs: (Var | null | undefined)[]): boolean {
    return this.recording && inputs.some((v) => v?.requiresGrad);
  }

  hold(t: Tensor): Tensor {
    if (t.lease === undefined) return t; // persistent (weights): never freed by the forward
    this.holds.set(t.buffer, (this.holds.get(t.buffer) ?? 0) + 1);
    return t;
  }

  unhold(t: Tensor): void {
    if (t.lease === undefined) return;
    const n = (this.holds.get(t.buffer) ?? 0) - 1;
    if (n > 0) {
      this.holds.set(t.buffer, n);
      return;
    }
    this.holds.delete(t.buffer);
    const d = this.deferred.get(t.buffer);
    if (d) {
      this.deferred.delete(t.buffer);
      this.ctx.release(d);
    }
  }

  pin(ts: readonly Tensor[]): void {
    for (const t of ts) this.pinned.set(t.buffer, (this.pinned.get(t.buffer) ?? 0) + 1);
  }

  unpin(ts: readonly Tensor[]): void {
    for (const t of ts) {
      const n = (this.pinned.get(t.buffer) ?? 0) - 1;
      if (n > 0) this.pinned.set(t.buffer, n);
      else this.pinned.delete(t.buffer);
    }
  }

  /** The forward's release: immediate unless a node still holds the tensor. */
  release(t: Tensor): void {
    if (t.lease === undefined || this.pinned.has(t.buffer)) return;
    if (this.holds.has(t.buffer)) {
      if (this.deferred.has(t.buffer)) throw new Error(`tensor "${t.buffer.label}" was released twice`);
      this.deferred.set(t.buffer, t);
      return;
    }
    this.ctx.release(t);
  }

  /** Records an op: `out` depends on `inputs`; `held` stay alive until the backward ran. */
  record(out: Tensor, inputs: readonly (Var | null)[], held: Tensor[], backward: BackwardFn): Var {
    const v = this.wrap(out, true);
    for (const t of held) this.hold(t);
    this.nodes.push({ out: v, inputs, backward, held });
    return v;
  }

  /** Number of recorded nodes (a checkpoint's recomputation starts its own tape segment here). */
  get length(): number {
    return this.nodes.length;
  }

  /**
   * Runs the backward of the nodes recorded from index `from` on, seeded with dL/d`root` = `seed`
   * (consumed). Returns the gradients that reached `wanted` variables (the caller releases them); every
   * other gradient and every held tensor is freed on the way, and the nodes are dropped.
   */
  async backward(root: Var, seed: Tensor, wanted: readonly Var[] = [], from = 0, consumeSeed = true): Promise<Map<number, Tensor>> {
    const grads = new Map<number, Tensor>([[root.id, seed]]);
    // A checkpointed block's recompute gets its caller's gradient as the seed: the caller frees it.
    const drop = (t: Tensor) => {
      if (consumeSeed || t.buffer !== seed.buffer) this.ctx.release(t);
    };
    const keep = new Set(wanted.map((v) => v.id));
    const mine = this.nodes.splice(from);
    try {
      for (let i = mine.length - 1; i >= 0; i--) {
        const node = mine[i]!;
        const g = grads.get(node.out.id);
        if (g) {
          grads.delete(node.out.id);
          const dIn = await node.backward(g);
          if (!dIn.some((d) => d?.buffer === g.buffer) && !keep.has(node.out.id)) drop(g);
          // A backward may hand one tensor to several inputs (a residual's dY): each input's gradient
          // is accumulated in place later, so every one after the first gets its own copy.
          const used = new Set<GPUBuffer>();
          for (const [j, v] of node.inputs.entries()) {
            let d = dIn[j];
            if (!d) continue;
            if (!v || !v.requiresGrad) {
              if (!dIn.some((e, k) => k !== j && e?.buffer === d!.buffer)) drop(d);
              continue;
            }
            if (used.has(d.buffer)) d = await this.copy(d);
            used.add(d.buffer);
            await this.accumulate(grads, v, d, drop);
          }
        }
        for (const t of node.held) this.unhold(t);
        mine[i] = undefined as unknown as Node;
      }
    } catch (err) {
      for (const n of mine) if (n) for (const t of n.held) this.unhold(t);
      for (const [id, g] of grads) if (!keep.has(id) && (consumeSeed || g.buffer !== seed.buffer)) this.ctx.releaseLive(g);
      throw err;
    }
    const out = new Map<number, Tensor>();
    for (const [id, g] of grads) {
      if (keep.has(id)) out.set(id, g);
      else drop(g);
    }
    return out;
  }

  private async accumulate(grads: Map<number, Tensor>, v: Var, d: Tensor, drop: (t: Tensor) => void): Promise<void> {
    const have = grads.get(v.id);
    if (!have) {
      grads.set(v.id, d.shape.length === v.shape.length && d.shape.every((s, k) => s === v.shape[k]) ? d : { ...d, shape: v.shape });
      return;
    }
    const n = have.shape.reduce((a, b) => a * b, 1);
    await stridedCopy(this.ctx, d, have, { rows: 1, cols: n, accumulate: true });
    drop(d);
  }

  private async copy(t: Tensor): Promise<Tensor> {
    const c = this.ctx.empty(t.shape, t.dtype, 'grad-copy');
    this.ctx.copyTensor(t, c);
    return c;
  }

  /** Drops every recorded node and its holds (after an error, or to discard a forward). */
  clear(): void {
    for (const n of this.nodes) for (const t of n.held) this.unhold(t);
    this.nodes = [];
  }
}

/** A tensor of the given shape and dtype filled with zeros. */
export function zeros(ctx: GpuContext, shape: readonly number[], dtype: DType, label: string): Promise<Tensor> {
  return fill(ctx, ctx.empty(shape, dtype, label), 0);
}
