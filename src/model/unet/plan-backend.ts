/**
 * The planning executor: runs the real UNet forward on shapes only, allocating and freeing bytes
 * exactly where the GPU backend would, and records the peak of live activation bytes and the largest
 * single tensor (= the largest binding, since every tensor is bound whole).
 */
import { BYTES_PER_ELEMENT, numel, type DType } from '../../gpu/tensor';
import { sizeClass } from '../../gpu/buffer-pool';
import type { TensorRef, UNetBackend } from './backend';
import { canFuseQkv, DEFAULT_QKV_LIMITS, type QkvLimits } from './fused-qkv';

export interface PlanTensor extends TensorRef {
  readonly id: number;
  readonly storage: { bytes: number; live: boolean; label: string };
}

export interface PlanStats {
  /** Peak bytes of live activation tensors. */
  peakActivationBytes: number;
  /** Bytes of all buffers the pool creates (size classes, with reuse), i.e. its GPU footprint. */
  poolBytes: number;
  largestActivation: { bytes: number; label: string; shape: number[] };
  allocations: number;
  leaked: number;
}

/** numpy broadcasting of two shapes (ops/elementwise.ts's rule, without importing a GPU op here). */
function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`plan: [${a}] and [${b}] do not broadcast`);
    return da === 1 ? db : da;
  });
}

export class PlanBackend implements UNetBackend<PlanTensor> {
  private nextId = 0;
  private live = 0;
  private liveCount = 0;
  /** Idle pooled buffers per size class, mirroring BufferPool's reuse. */
  private readonly idle = new Map<number, number>();
  readonly stats: PlanStats = { peakActivationBytes: 0, poolBytes: 0, largestActivation: { bytes: 0, label: '', shape: [] }, allocations: 0, leaked: 0 };

  constructor(
    private readonly weights: Map<string, number[]>,
    readonly dtype: DType,
    private readonly weightDtype: DType,
    /**
     * Whether self-attention's q/k/v are planned as the loader lays them out (fused-qkv.ts: one [3C, C]
     * matmul where the device limits allow) or as three; null: never fused.
     */
    private readonly fuseQkv: QkvLimits | null = DEFAULT_QKV_LIMITS,
  ) {}

  private alloc(shape: readonly number[], label: string): PlanTensor {
    const bytes = Math.ceil((numel(shape) * BYTES_PER_ELEMENT[this.dtype]) / 4) * 4;
    this.live += bytes;
    this.liveCount++;
    const cls = sizeClass(bytes);
    const free = this.idle.get(cls) ?? 0;
    if (free > 0) this.idle.set(cls, free - 1);
    else this.stats.poolBytes += cls;
    this.stats.allocations++;
    this.stats.peakActivationBytes = Math.max(this.stats.peakActivationBytes, this.live);
    if (bytes > this.stats.largestActivation.bytes) this.stats.largestActivation = { bytes, label, shape: [...shape] };
    return { id: this.nextId++, shape: [...shape], dtype: this.dtype, storage: { bytes, live: true, label } };
  }

  /** Inputs of the step (latents, text states) are activations too. */
  input(shape: readonly number[], label: string): PlanTensor {
    return this.alloc(shape, label);
  }

  /** One handle per weight, as a loaded model has (the attn2 K/V cache keys entries by weight identity). */
  private readonly weightHandles = new Map<string, PlanTensor>();

  weight(name: string): PlanTensor {
    const known = this.weightHandles.get(name);
    if (known) return known;
    const shape = this.weights.get(name);
    if (!shape) throw new Error(`plan: no weight ${name}`);
    const handle: PlanTensor = { id: -1, shape, dtype: this.weightDtype, storage: { bytes: 0, live: true, label: name } };
    this.weightHandles.set(name, handle);
    return handle;
  }
  hasWeight(name: string): boolean {
    return this.weights.has(name);
  }
  timestepEmbedding(ts: readonly number[], dim: number): PlanTensor {
    return this.alloc([ts.length, dim], 'timestep-embedding');
  }
  conv2d(x: PlanTensor, w: PlanTensor, _b: PlanTensor | null, o: { stride: 1 | 2; padding: 0 | 1 }): PlanTensor {
    const [n, , h, wd] = x.shape as [number, number, number, number];
    const k = w.shape[2]!;
    const oh = Math.floor((h + 2 * o.padding - k) / o.stride) + 1;
    const ow = Math.floor((wd + 2 * o.padding - k) / o.stride) + 1;
    return this.alloc([n, w.shape[0]!, oh, ow], 'conv2d');
  }
  groupNorm(x: PlanTensor): PlanTensor {
    return this.alloc(x.shape, 'group-norm');
  }
  layerNorm(x: PlanTensor): PlanTensor {
    return this.alloc(x.shape, 'layer-norm');
  }
  linear(x: PlanTensor, w: PlanTensor): PlanTensor {
    return this.alloc([...x.shape.slice(0, -1), w.shape[0]!], 'linear');
  }
  attention(q: PlanTensor): PlanTensor {
    return this.alloc(q.shape, 'attention'); // flash attention: no score matrix
  }
  fusedWeight(names: readonly [string, string, string]): PlanTensor | null {
    const shapes = names.map((n) => this.weights.get(n));
    if (!this.fuseQkv || !canFuseQkv(shapes, this.weightDtype, this.fuseQkv)) return null;
    const [rows, cols] = shapes[0] as [number, number];
    return { id: -1, shape: [3 * rows, cols], dtype: this.weightDtype, storage: { bytes: 0, live: true, label: names.join('+') } };
  }
  attentionQkv(qkv: PlanTensor): PlanTensor {
    return this.alloc([...qkv.shape.slice(0, -1), qkv.shape[qkv.shape.length - 1]! / 3], 'attention'); // q, k, v read in place
  }
  regionalAttention(q: PlanTensor): PlanTensor {
    // one fused kernel: no per-region outputs; q may hold one [Tq, C] per prompt ([B, 1 + U, Tq, C])
    return this.alloc([q.shape[0]!, ...q.shape.slice(-2)], 'regional-attention');
  }
  lowRank(x: PlanTensor, down: PlanTensor, up: PlanTensor, scale: PlanTensor): PlanTensor {
    // the GPU's transient x·Dᵀ and its scaled copy, then the result (ops/lora.ts lowRankDelta)
    const t = this.alloc([...x.shape.slice(0, -1), down.shape[0]!], 'lowrank-down');
    const s = this.alloc(broadcastShapes(t.shape, scale.shape), 'lowrank-scale');
    this.release(t);
    const y = this.alloc([...s.shape.slice(0, -1), up.shape[0]!], 'lowrank-up');
    this.release(s);
    return y;
  }
  sliceRows(x: PlanTensor, _start: number, rows: number): PlanTensor {
    return this.alloc([rows, x.shape[1]!], 'slice-rows');
  }
  concatBatch(parts: readonly PlanTensor[]): PlanTensor {
    return this.alloc([parts.reduce((n, p) => n + p.shape[0]!, 0), ...parts[0]!.shape.slice(1)], 'concat');
  }
  add(a: PlanTensor, b: PlanTensor): PlanTensor {
    return this.alloc(broadcastShapes(a.shape, b.shape), 'add');
  }
  geglu(h: PlanTensor): PlanTensor {
    return this.alloc([...h.shape.slice(0, -1), h.shape[h.shape.length - 1]! / 2], 'geglu');
  }
  silu(x: PlanTensor): PlanTensor {
    return this.alloc(x.shape, 'silu');
  }
  upsampleNearest(x: PlanTensor, height: number, width: number): PlanTensor {
    return this.alloc([x.shape[0]!, x.shape[1]!, height, width], 'upsample');
  }
  concatChannels(a: PlanTensor, b: PlanTensor): PlanTensor {
    return this.alloc([a.shape[0]!, a.shape[1]! + b.shape[1]!, a.shape[2]!, a.shape[3]!], 'concat');
  }
  concatLast(a: PlanTensor, b: PlanTensor): PlanTensor {
    return this.alloc([a.shape[0]!, a.shape[1]! + b.shape[1]!], 'concat');
  }
  toTokens(x: PlanTensor): PlanTensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    return this.alloc([n, h * w, c], 'to-tokens');
  }
  fromTokens(t: PlanTensor, height: number, width: number, _residual?: PlanTensor): PlanTensor {
    return this.alloc([t.shape[0]!, t.shape[2]!, height, width], 'from-tokens');
  }
  reshape(x: PlanTensor, shape: readonly number[]): PlanTensor {
    if (numel(shape) !== numel(x.shape)) throw new Error(`plan: reshape ${x.shape} -> ${shape}`);
    return { ...x, shape: [...shape] };
  }
  release(...tensors: PlanTensor[]): void {
    for (const t of tensors) {
      if (t.id < 0) throw new Error(`plan: the forward released weight ${t.storage.label}`);
      if (!t.storage.live) throw new Error(`plan: ${t.storage.label} released twice`);
      t.storage.live = false;
      this.live -= t.storage.bytes;
      const cls = sizeClass(t.storage.bytes);
      this.idle.set(cls, (this.idle.get(cls) ?? 0) + 1);
      this.liveCount--;
    }
  }
  /** Live tensors left besides the ones the caller still holds. */
  get liveTensors(): number {
    return this.liveCount;
  }
  get liveBytes(): number {
    return this.live;
  }
}
