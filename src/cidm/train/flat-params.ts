/**
 * Trainable tensors of one optimizer parameter group, stored flat: one f32 buffer each for the values
 * (the f32 master copy), the gradients and AdamW's two moments, every tensor at its own offset. SDXL
 * has 280 LoRA linears × 2 matrices, most of them a few thousand floats: one dispatch per group
 * instead of one per tiny tensor (src/cidm/train/adamw.ts).
 *
 * Each tensor starts at a multiple of 64 elements (256 bytes, the largest value WebGPU allows for
 * minStorageBufferOffsetAlignment), so `view()` gives a Tensor that the forward and backward ops can
 * bind on its own. The padding between tensors stays zero in all four buffers, and AdamW maps
 * (p, g, m, v) = 0 to 0, so it never changes.
 */
import type { GpuContext } from '../../gpu/context';
import { numel, type Tensor } from '../../gpu/tensor';
import { fill } from '../../ops/fill';

export const FLAT_ALIGN = 64;

export interface FlatEntry {
  readonly name: string;
  readonly shape: readonly number[];
  /** First element in the flat buffers. */
  readonly offset: number;
  readonly numel: number;
}

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Where each tensor of a group lives in its flat buffers (pure; no GPU). */
export class FlatLayout {
  readonly entries: ReadonlyMap<string, FlatEntry>;
  /** Elements of each flat buffer, padding included. */
  readonly size: number;

  constructor(specs: readonly TensorSpec[]) {
    const entries = new Map<string, FlatEntry>();
    let at = 0;
    for (const s of specs) {
      if (entries.has(s.name)) throw new RangeError(`flat layout: tensor "${s.name}" is listed twice`);
      const n = numel(s.shape);
      entries.set(s.name, { name: s.name, shape: [...s.shape], offset: at, numel: n });
      at += Math.ceil(n / FLAT_ALIGN) * FLAT_ALIGN;
    }
    this.entries = entries;
    this.size = Math.max(at, FLAT_ALIGN);
  }

  get names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): FlatEntry {
    const e = this.entries.get(name);
    if (!e) throw new RangeError(`flat layout: no tensor "${name}"`);
    return e;
  }
}

export type FlatSlot = 'param' | 'grad' | 'expAvg' | 'expAvgSq';
const SLOTS: readonly FlatSlot[] = ['param', 'grad', 'expAvg', 'expAvgSq'];

/** The four flat f32 buffers of one group on the GPU (zero-initialised, as WebGPU buffers are). */
export class FlatParams {
  private readonly buffers: Record<FlatSlot, Tensor>;

  private constructor(readonly label: string, readonly layout: FlatLayout, buffers: Record<FlatSlot, Tensor>) {
    this.buffers = buffers;
  }

  static create(ctx: GpuContext, label: string, layout: FlatLayout): FlatParams {
    const make = (slot: FlatSlot) => ctx.persistent([layout.size], 'f32', `${label} ${slot}`);
    return new FlatParams(label, layout, { param: make('param'), grad: make('grad'), expAvg: make('expAvg'), expAvgSq: make('expAvgSq') });
  }

  /** The whole flat buffer of a slot, shape [layout.size]. */
  flat(slot: FlatSlot): Tensor {
    return this.buffers[slot];
  }

  /** One tensor of the group as a bindable view (256-byte aligned offset). */
  view(slot: FlatSlot, name: string): Tensor {
    const e = this.layout.entry(name);
    const b = this.buffers[slot];
    return { shape: e.shape, dtype: 'f32', buffer: b.buffer, offset: b.offset + e.offset * 4 };
  }

  /** Uploads one tensor's values (f32, in its row-major order). */
  write(ctx: GpuContext, slot: FlatSlot, name: string, data: Float32Array): void {
    const e = this.layout.entry(name);
    if (data.length !== e.numel) throw new RangeError(`${this.label}: ${name} needs ${e.numel} values, got ${data.length}`);
    ctx.write(this.buffers[slot], data, e.offset);
  }

  /** Reads one tensor back (or the whole slot when `name` is omitted). */
  async read(ctx: GpuContext, slot: FlatSlot, name?: string): Promise<Float32Array> {
    if (name === undefined) return ctx.read(this.buffers[slot]);
    return ctx.read(this.view(slot, name));
  }

  /** Zeroes every gradient (before a backward that accumulates into them). */
  async zeroGrads(ctx: GpuContext): Promise<void> {
    await fill(ctx, this.buffers.grad, 0);
  }

  /** Zeroes the optimizer moments (a fresh AdamW state for a new task). */
  async resetMoments(ctx: GpuContext): Promise<void> {
    await fill(ctx, this.buffers.expAvg, 0);
    await fill(ctx, this.buffers.expAvgSq, 0);
  }

  destroy(ctx: GpuContext): void {
    for (const s of SLOTS) ctx.destroyTensor(this.buffers[s]);
  }
}
