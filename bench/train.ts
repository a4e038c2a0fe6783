/**
 * `npm run bench -- --suite train`: what a training step costs relative to a forward of the same batch,
 * on the same adapter in the same run (no peer: there is no WebGPU training peer to compare with).
 *
 * Per case (train-cidm.ts: the whole CIDM step on the tiny golden SDXL; train-blocks.ts: SDXL-width
 * transformer and resnet blocks on the training backend with checkpointing), medians of:
 *  - ours_ms: one training step: forward (checkpointed, not recording), loss, then recompute + backward
 *    (+ AdamW for CIDM), with one sync after the loss so the two halves are timed apart (fwd_ms and
 *    recompute_backward_ms; the sync lets the queue run dry once while the backward starts recording);
 *  - forward_ms: the same forward on the training backend, discarded (ratio_to_forward = ours / this);
 *  - recording_forward_ms: that forward with checkpointing off (every op recorded, activations held),
 *    i.e. what each block's recompute inside the backward costs;
 *  - inference_ms: the inference backend's forward (GpuUNetBackend), the cost without any training
 *    (for the CIDM row: the UNet alone with one context, as a sampling step; no text encoders).
 * Every timed run ends at queue.onSubmittedWorkDone, after a warm-up run (timing.ts).
 * With --profile, one more step runs under bench/train-profile.ts and the row gets the kernels that
 * take the time, per phase.
 */
import type { GpuContext } from '../src/gpu/context';
import { timeRuns } from './timing';
import { sync } from './train-util';
import { profileStep, type StepProfile } from './train-profile';
import { tinyCidmCase } from './train-cidm';
import { resnetTrainCase, transformerTrainCase } from './train-blocks';

export interface TrainBenchRow {
  op: string;
  model: string;
  shape: string;
  /** One training step (forward, loss, recompute + backward, optimizer where there is one). */
  ours_ms: number;
  /** The same forward on the training backend without backward. */
  forward_ms: number;
  ratio_to_forward: number;
  /** The step's forward part (up to the sync after the loss) and the rest. */
  fwd_ms: number;
  recompute_backward_ms: number;
  /** The forward with every op recorded (no checkpointing): the cost of the recomputes. */
  recording_forward_ms: number;
  /** The inference backend's forward (no tape, no LoRA; CIDM: the UNet alone, one context). */
  inference_ms: number;
  ratio_to_inference: number;
  /** What the last step's gradients looked like (finite, non-zero). */
  check: string;
  /** With --profile: the step's time per kernel and phase. */
  profile?: StepProfile;
}

/** One benchmarked training workload. Every method records GPU work; the driver syncs after it. */
export interface TrainCase {
  op: string;
  model: string;
  shape: string;
  /** A training step; `mark()` is awaited between the forward (with the loss) and the backward. */
  step(mark: () => Promise<void>): Promise<void>;
  /** The same forward, its tape discarded. */
  forward(): Promise<void>;
  /** The forward with checkpointing off, its tape discarded. */
  recordingForward(): Promise<void>;
  /** The inference backend's forward of the same batch. */
  inference(): Promise<void>;
  /** Reads the last step's gradients back and describes them. */
  check(): Promise<string>;
  dispose(): void;
}

export interface TrainBenchOptions {
  size: 'small' | 'full';
  maxRuns: number;
  profile?: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(ctx: GpuContext, maxRuns: number, run: () => Promise<void>): Promise<number> {
  return (
    await timeRuns(async () => {
      await run();
      await sync(ctx);
    }, maxRuns)
  ).medianMs;
}

/** Medians of the whole step and of its forward part, over the timed runs (the warm-up dropped). */
async function timeStep(ctx: GpuContext, maxRuns: number, c: TrainCase): Promise<{ total: number; fwd: number; rest: number }> {
  const runs: { total: number; fwd: number }[] = [];
  await timeRuns(async () => {
    const start = performance.now();
    let fwd = NaN;
    await c.step(async () => {
      await sync(ctx);
      fwd = performance.now() - start;
    });
    await sync(ctx);
    runs.push({ total: performance.now() - start, fwd });
  }, maxRuns);
  const timed = runs.slice(1);
  return { total: median(timed.map((r) => r.total)), fwd: median(timed.map((r) => r.fwd)), rest: median(timed.map((r) => r.total - r.fwd)) };
}

async function measureCase(ctx: GpuContext, c: TrainCase, o: TrainBenchOptions, log: (s: string) => void): Promise<TrainBenchRow> {
  const step = await timeStep(ctx, o.maxRuns, c);
  log(`train ${c.model}: step ${step.total.toFixed(1)} ms (forward part ${step.fwd.toFixed(1)}, recompute+backward ${step.rest.toFixed(1)})`);
  const check = await c.check();
  const forward = await time(ctx, o.maxRuns, () => c.forward());
  log(`train ${c.model}: forward alone ${forward.toFixed(1)} ms`);
  const recording = await time(ctx, o.maxRuns, () => c.recordingForward());
  log(`train ${c.model}: recording forward ${recording.toFixed(1)} ms`);
  const inference = await time(ctx, o.maxRuns, () => c.inference());
  log(`train ${c.model}: inference forward ${inference.toFixed(1)} ms`);
  const row: TrainBenchRow = {
    op: c.op,
    model: c.model,
    shape: c.shape,
    ours_ms: step.total,
    forward_ms: forward,
    ratio_to_forward: step.total / forward,
    fwd_ms: step.fwd,
    recompute_backward_ms: step.rest,
    recording_forward_ms: recording,
    inference_ms: inference,
    ratio_to_inference: step.total / inference,
    check,
  };
  if (o.profile) {
    row.profile = await profileStep(ctx, (mark) => c.step(mark));
    log(`train ${c.model}: profiled one more step (${row.profile.method})`);
  }
  return row;
}

export async function runTrainBench(ctx: GpuContext, o: TrainBenchOptions, log: (s: string) => void): Promise<TrainBenchRow[]> {
  const full = o.size === 'full';
  const makers = [
    () => tinyCidmCase(ctx, full ? 32 : 16),
    () => transformerTrainCase(ctx, full ? 4096 : 1024),
    () => resnetTrainCase(ctx, full ? 64 : 32),
  ];
  const rows: TrainBenchRow[] = [];
  for (const make of makers) {
    const c = await make();
    try {
      rows.push(await measureCase(ctx, c, o, log));
    } finally {
      c.dispose();
      await sync(ctx);
      ctx.pool.trim();
    }
  }
  return rows;
}
