/**
 * Memory plan of one CIDM training step: the REAL step (cidmForward, epsMse, cidmBackward, AdamW) runs
 * on a planning device (src/gpu/planning-device.ts) that has no GPU, over weights that are only sized
 * buffers. Everything the step's code allocates is therefore counted exactly as it would be on a
 * device: the weights, the optimizer's flat buffers, the pool's footprint (size classes, buffers kept
 * for reuse), matmul/groupnorm scratch, uniform chunks.
 *
 * Besides the device's live-bytes peak (what the targets are about), the pooled tensors in use are
 * tracked per phase, so the split says where activations go: what is still held when the backward
 * starts (the checkpointed blocks' saved inputs and the other tensors the tape holds) and what the
 * backward adds on top (a block's recomputed activations and the gradients in flight).
 */
import { GpuContext } from '../../gpu/context';
import { PlanningDevice, planningHandle, type LabelBytes, type LargestBinding, type PlanningLimits } from '../../gpu/planning-device';
import type { DType } from '../../gpu/tensor';
import { rowBlocks, type EmbeddingBlock } from '../../ops/embedding';
import { CLIP_EOS_ID, type TextEncoderConfig } from '../../model/text-encoder/config';
import { DEFAULT_EMBEDDING_BLOCK_BYTES, embeddingBlockRows, type LoadedTextEncoder } from '../../model/text-encoder/load';
import { TOKEN_EMBEDDING, textEncoderWeightShapes } from '../../model/text-encoder/weights';
import type { UNetConfigJson } from '../../model/unet/arch';
import { sizedUNet } from '../../model/unet/sized-unet';
import { AdamW } from './adamw';
import { cidmShape, createCidmParams } from './cidm-params';
import { cidmBackward, cidmForward } from './cidm-step';
import { epsMse } from './diffusion-loss';

export interface TrainPlanOptions {
  unet: UNetConfigJson;
  /** The text encoders in model order (SDXL: CLIP-L, then OpenCLIP-bigG). */
  encoders: readonly TextEncoderConfig[];
  /** Image side in pixels (the latent is 1/8). */
  width: number;
  height: number;
  /** Images per step (default 1). */
  batch?: number;
  /** Weights and activations (default f16). */
  dtype?: DType;
  /** LoRA rank (default 4, CIDM's) and placeholder words (default 2). */
  rank?: number;
  placeholders?: number;
  /** Gradient checkpointing (default true). */
  checkpointing?: boolean;
  limits?: Partial<PlanningLimits>;
}

/** 'forward' starts at zeroing the gradients and uploading the latents; 'optimizer' is the AdamW step. */
export const TRAIN_PHASES = ['forward', 'loss', 'backward', 'optimizer'] as const;
export type TrainPhase = (typeof TRAIN_PHASES)[number];

export interface PhaseStats {
  /** Device live-bytes peak within the phase. */
  devicePeakBytes: number;
  /** Pooled bytes in use (not counting the pool's idle buffers) at the phase's start and peak. */
  inUseStartBytes: number;
  inUsePeakBytes: number;
  dispatches: number;
}

export interface TrainPlan {
  /** Live GPU bytes at the worst moment of the step, everything included. */
  peakBytes: number;
  largestBinding: LargestBinding;
  /** Compute dispatches from zeroing the gradients to the end of the optimizer step. */
  dispatches: number;
  unetWeightBytes: number;
  textEncoderWeightBytes: number;
  /** The FlatParams buffers: f32 params, grads and both AdamW moments of the LoRA and token groups. */
  trainableBytes: number;
  /** peakBytes − the three above: the pool's footprint, scratch, uniform chunks, staging. */
  activationPeakBytes: number;
  /** Bytes the pool owns at the end (in use or idle for reuse) and its in-use peak. */
  poolFootprintBytes: number;
  poolInUsePeakBytes: number;
  /** Live outside the pool and the resident buffers at the end: matmul/groupnorm scratch, uniform chunks. */
  otherBytes: number;
  /** Pooled bytes in use when the backward starts: what the tape holds for it (+ dL/dε̂). */
  savedAtBackwardBytes: number;
  /** In-use peak of the backward minus savedAtBackwardBytes: recomputation + gradients in flight. */
  backwardExtraBytes: number;
  phases: Record<TrainPhase, PhaseStats>;
  /** Pooled tensors in use by label at the backward's start and near the in-use peak (largest first). */
  topAtBackward: LabelBytes[];
  topAtPeak: LabelBytes[];
  /** Pooled tensors still in use after the step (should be empty). */
  leaked: LabelBytes[];
  /** What a real device would have refused (first few), and how many. */
  violations: string[];
  violationCount: number;
  wallMs: number;
}

/** A caption of 77 ids: "a photo of <p0> <p1> … dog", then EOS and padding (CLIP-L pads with EOS). */
export function planningCaption(vocabSize: number, placeholders: number, padId: number, seq = 77): number[] {
  const ids = [49406, 320, 1125, 539, ...Array.from({ length: placeholders }, (_, j) => vocabSize + j), 1929, CLIP_EOS_ID];
  while (ids.length < seq) ids.push(padId);
  return ids.slice(0, seq);
}

/** As loadTextEncoder lays it out (token table in row blocks), without reading a file. */
function sizedTextEncoder(ctx: GpuContext, config: TextEncoderConfig, dtype: DType): LoadedTextEncoder {
  const weights = new Map<string, ReturnType<GpuContext['persistent']>>();
  const tokenBlocks: EmbeddingBlock[] = [];
  const maxBytes = Math.min(DEFAULT_EMBEDDING_BLOCK_BYTES, ctx.device.limits.maxStorageBufferBindingSize);
  const blockRows = embeddingBlockRows(config.hiddenSize, dtype, maxBytes);
  let bytes = 0;
  for (const [name, shape] of textEncoderWeightShapes(config)) {
    if (name === TOKEN_EMBEDDING) {
      for (const b of rowBlocks(config.vocabSize, blockRows)) {
        const tensor = ctx.persistent([b.rows, config.hiddenSize], dtype, `${name} rows ${b.start}+${b.rows}`);
        tokenBlocks.push({ start: b.start, tensor });
        bytes += tensor.buffer.size;
      }
    } else {
      const t = ctx.persistent(shape, dtype, name);
      weights.set(name, t);
      bytes += t.buffer.size;
    }
  }
  return { config, weights, tokenBlocks, dtype, bytes };
}

/**
 * Pooled buffers in use, by the label and shape of their current owner: wraps this context's
 * pool.acquire/release (bytes) and ctx.empty (the shape that goes with the next acquire).
 */
class InUseTracker {
  private readonly inUse = new Map<GPUBuffer, { key: string; size: number }>();
  private readonly owned = new Set<GPUBuffer>();
  private pendingShape: readonly number[] | null = null;
  bytes = 0;
  peak = 0;
  private snapshotAt = -1;
  topAtPeak: LabelBytes[] = [];

  constructor(ctx: GpuContext) {
    const pool = ctx.pool;
    const acquire = pool.acquire.bind(pool);
    const release = pool.release.bind(pool);
    const empty = ctx.empty.bind(ctx);
    ctx.empty = (shape, dtype, label) => {
      this.pendingShape = shape;
      try {
        return empty(shape, dtype, label);
      } finally {
        this.pendingShape = null;
      }
    };
    pool.acquire = (bytes, label, usage) => {
      const b = acquire(bytes, label, usage);
      this.owned.add(b);
      this.inUse.set(b, { key: this.pendingShape ? `${label} [${this.pendingShape.join('×')}]` : label, size: b.size });
      this.bytes += b.size;
      if (this.bytes > this.peak) {
        this.peak = this.bytes;
        // Re-aggregating on every new peak is quadratic; every 4 MiB of growth is close enough.
        if (this.peak - this.snapshotAt >= 4 * 2 ** 20) this.snapshot();
      }
      return b;
    };
    pool.release = (b) => {
      release(b);
      this.bytes -= this.inUse.get(b)?.size ?? 0;
      this.inUse.delete(b);
    };
  }

  /** Bytes of the buffers the pool created and has not destroyed: its footprint. */
  get ownedBytes(): number {
    let n = 0;
    for (const b of this.owned) if (!(b as unknown as { destroyed: boolean }).destroyed) n += b.size;
    return n;
  }

  resetPeak(): void {
    this.peak = this.bytes;
  }

  snapshot(): void {
    this.snapshotAt = this.peak;
    this.topAtPeak = this.byLabel();
  }

  byLabel(): LabelBytes[] {
    const m = new Map<string, LabelBytes>();
    for (const { key, size } of this.inUse.values()) {
      const e = m.get(key) ?? { label: key, bytes: 0, count: 0 };
      e.bytes += size;
      e.count++;
      m.set(key, e);
    }
    return [...m.values()].sort((a, b) => b.bytes - a.bytes);
  }
}

export async function planTrainingStep(o: TrainPlanOptions): Promise<TrainPlan> {
  const t0 = performance.now();
  const dtype = o.dtype ?? 'f16';
  const batch = o.batch ?? 1;
  const P = o.placeholders ?? 2;
  const dev = new PlanningDevice(o.limits);
  const ctx = new GpuContext(planningHandle(dev));
  const track = new InUseTracker(ctx);
  let globalInUsePeak = 0;

  const unet = sizedUNet(ctx, o.unet, dtype);
  const encoders = o.encoders.map((c) => sizedTextEncoder(ctx, c, dtype));
  const shape = cidmShape(unet.arch, P, o.rank ?? 4, o.encoders.map((c) => c.hiddenSize));
  const params = createCidmParams(ctx, shape);
  const trainableBytes = [params.lora, params.tokens].reduce((s, g) => s + 4 * g.flat('param').buffer.size, 0);
  const textEncoderWeightBytes = encoders.reduce((s, te) => s + te.bytes, 0);

  const [h, w] = [o.height / 8, o.width / 8];
  const latent = [batch, unet.arch.inChannels, h, w];
  const ids = encoders.map((te, k) => planningCaption(te.config.vocabSize, P, k === 0 ? CLIP_EOS_ID : 0, te.config.maxPositionEmbeddings));
  const timeIds = unet.arch.addition ? Array.from({ length: batch }, () => [o.height, o.width, 0, 0, o.height, o.width]).flat() : undefined;

  const phases = {} as Record<TrainPhase, PhaseStats>;
  let current: { name: TrainPhase; dispatches: number } | null = null;
  const end = () => {
    if (!current) return;
    const p = phases[current.name];
    p.devicePeakBytes = dev.windowPeakBytes;
    p.inUsePeakBytes = track.peak;
    p.dispatches = dev.dispatches - current.dispatches;
    globalInUsePeak = Math.max(globalInUsePeak, track.peak);
  };
  const begin = (name: TrainPhase) => {
    end();
    dev.markWindow();
    track.resetPeak();
    phases[name] = { devicePeakBytes: 0, inUseStartBytes: track.bytes, inUsePeakBytes: 0, dispatches: 0 };
    current = { name, dispatches: dev.dispatches };
  };

  const dispatches0 = dev.dispatches;
  begin('forward');
  await params.lora.zeroGrads(ctx);
  await params.tokens.zeroGrads(ctx);
  const zeros = new Float32Array(latent.reduce((a, b) => a * b, 1));
  const noisy = ctx.upload(zeros, latent, dtype, 'noisy latents');
  const target = ctx.upload(zeros, latent, dtype, 'noise target');
  const f = await cidmForward(ctx, { unet, encoders, dtype }, params, { noisy, timesteps: Array(batch).fill(500), timeIds, ids }, { checkpointing: o.checkpointing ?? true });

  begin('loss');
  const loss = await epsMse(ctx, f.pred.t, target);
  await ctx.read(loss.loss);
  ctx.release(loss.loss, noisy, target);

  begin('backward');
  const topAtBackward = track.byLabel();
  const savedAtBackwardBytes = track.bytes;
  await cidmBackward(ctx, f, loss.grad);

  begin('optimizer');
  const adamw = new AdamW([
    { name: 'lora', params: params.lora, lr: 1e-4, weightDecay: 0.01 },
    { name: 'tokens', params: params.tokens, lr: 1e-3, weightDecay: 0.01 },
  ]);
  await adamw.step(ctx);
  await ctx.flush();
  await new Promise((r) => setTimeout(r, 0)); // temps released after a flush settle
  end();
  const dispatches = dev.dispatches - dispatches0;

  const resident = unet.bytes + textEncoderWeightBytes + trainableBytes;
  return {
    peakBytes: dev.peakBytes,
    largestBinding: dev.largestBinding,
    dispatches,
    unetWeightBytes: unet.bytes,
    textEncoderWeightBytes,
    trainableBytes,
    activationPeakBytes: dev.peakBytes - resident,
    poolFootprintBytes: track.ownedBytes,
    otherBytes: dev.liveBytes - resident - track.ownedBytes,
    poolInUsePeakBytes: globalInUsePeak,
    savedAtBackwardBytes,
    backwardExtraBytes: phases.backward.inUsePeakBytes - savedAtBackwardBytes,
    phases,
    topAtBackward,
    topAtPeak: track.topAtPeak,
    leaked: track.byLabel(),
    violations: dev.violations,
    violationCount: dev.violationCount,
    wallMs: performance.now() - t0,
  };
}
