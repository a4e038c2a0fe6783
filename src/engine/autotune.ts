/**
 * Kernel autotuning for the loaded model (issue 15 point 4): the matmul problems of one UNet step at
 * the model's native size (collected by running the real forward on the planning device, which holds
 * no data), each timed with every candidate tile on the real device (ops/matmul-tuning.ts), biggest
 * first, within a time budget; the fastest tile per problem goes into ctx.tuning, and the table is
 * remembered per adapter (TuningStore) so it runs once per GPU, not per load.
 */
import { GpuContext } from '../gpu/context';
import { PlanningDevice, planningHandle } from '../gpu/planning-device';
import type { AdapterSummary } from '../gpu';
import type { DType } from '../gpu/tensor';
import { chooseTile, isCpuAdapter } from '../ops/matmul';
import type { MatmulTunable } from '../ops/matmul-tile-choice';
import { tuneMatmul } from '../ops/matmul-tuning';
import type { UNetConfigJson } from '../model/unet/arch';
import { runSyntheticStep } from '../model/unet/synthetic-step';
import { GpuUNetBackend } from '../model/unet/gpu-backend';
import { sizedUNet } from '../model/unet/sized-unet';

/** Bump when a kernel change can make a stored choice wrong: older tables are then re-measured. */
/** 2: the 32×32 tile (TILE_32X8) joined the candidates. */
export const TUNING_VERSION = 2;

export interface TuningSummary {
  version: number;
  /** ISO date of the measurement. */
  date: string;
  /** Problems measured, and how many of them the built-in heuristic already got right. */
  problems: number;
  heuristicRight: number;
  /** Σ heuristic ms / Σ tuned ms over the measured problems (≥ 1). */
  speedup: number;
  /** Measuring took this long. */
  ms: number;
}

export interface StoredTuning {
  summary: TuningSummary;
  /** key → choice (ctx.tuning's entries). */
  table: [string, Record<string, number>][];
}

/** Where tuning tables are kept between sessions (the worker: IndexedDB, storage/tuning-store.ts). */
export interface TuningStore {
  load(adapterKey: string): Promise<StoredTuning | null>;
  save(adapterKey: string, t: StoredTuning): Promise<void>;
  clear(adapterKey: string): Promise<void>;
}

/** One adapter's identity for its table: the same GPU and driver report the same strings. */
export function adapterKey(s: AdapterSummary): string {
  return [s.vendor, s.architecture, s.device, s.description].join('|');
}

export interface StepShape {
  width: number;
  height: number;
  batch: number;
  dtype: DType;
  latentFactor: number;
  /** f16 weights packed in u32 words under f32 compute (no shader-f16), as the model was loaded. */
  packWeights?: boolean;
}

/** The distinct matmul problems one UNet step poses, largest first (by multiply-adds). */
export async function collectUNetMatmuls(config: UNetConfigJson, o: StepShape): Promise<MatmulTunable[]> {
  const dev = new PlanningDevice();
  const ctx = new GpuContext(planningHandle(dev));
  const seen = new Map<string, MatmulTunable>();
  ctx.onTunable = (kind, key, problem) => {
    if (kind === 'matmul' && !seen.has(key)) seen.set(key, problem as MatmulTunable);
  };
  try {
    const unet = sizedUNet(ctx, config, o.dtype, o.packWeights);
    const zeros = (shape: number[], label: string) => ctx.upload(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, o.dtype, label);
    const be = new GpuUNetBackend(ctx, unet.weights, o.dtype, 'unet (tuning plan)');
    const { out, inputs } = await runSyntheticStep(be, unet.arch, o, zeros);
    await ctx.flush();
    ctx.release(out, ...inputs);
  } finally {
    ctx.destroy();
  }
  const macs = (t: MatmulTunable) => t.p.batch * t.p.M * t.p.N * t.p.K;
  return [...seen.values()].sort((a, b) => macs(b) - macs(a));
}

export interface AutotuneOptions {
  /** Stop starting new problems after this long (the rest keep the heuristic). */
  budgetMs: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Measures the problems (largest first) within the budget; writes the winners into ctx.tuning. */
export async function autotune(ctx: GpuContext, problems: readonly MatmulTunable[], o: AutotuneOptions): Promise<StoredTuning> {
  const t0 = performance.now();
  const cpu = isCpuAdapter(ctx);
  const table: [string, Record<string, number>][] = [];
  let heuristicRight = 0;
  let defaultMs = 0;
  let tunedMs = 0;
  for (const [i, t] of problems.entries()) {
    o.signal?.throwIfAborted();
    if (performance.now() - t0 > o.budgetMs) break;
    const heuristic = chooseTile(t.p, cpu);
    const r = await tuneMatmul(ctx, t, heuristic);
    const best = Math.min(...r.ms);
    if (r.tile === heuristic) heuristicRight++;
    defaultMs += r.defaultMs;
    tunedMs += best;
    table.push([r.key, { ...r.tile }]);
    ctx.tuning.set(r.key, { ...r.tile });
    o.onProgress?.(i + 1, problems.length);
  }
  const summary: TuningSummary = {
    version: TUNING_VERSION,
    date: new Date().toISOString(),
    problems: table.length,
    heuristicRight,
    speedup: tunedMs > 0 ? defaultMs / tunedMs : 1,
    ms: performance.now() - t0,
  };
  return { summary, table };
}

/** Puts a stored table into ctx.tuning; false when it is from another tuning version. */
export function applyTuning(ctx: GpuContext, t: StoredTuning): boolean {
  if (t.summary.version !== TUNING_VERSION) return false;
  for (const [k, v] of t.table) ctx.tuning.set(k, v);
  return true;
}
