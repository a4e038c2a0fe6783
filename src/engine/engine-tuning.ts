/**
 * The engine's kernel tuning (autotune.ts) across loads: at each model load the stored table of this
 * adapter is applied, and the model's matmul shapes that it lacks are measured within a short budget
 * and stored, so a GPU is measured once per model architecture, not per load; `retune` forgets the
 * table and measures again (the GPU page's button, e.g. after a driver update).
 */
import type { GpuContext } from '../gpu/context';
import { adapterKey, applyTuning, autotune, collectUNetMatmuls, TUNING_VERSION, type StoredTuning, type TuningStore, type TuningSummary } from './autotune';
import { isCpuAdapter } from '../ops/matmul';
import { matmulTuningKey as matmulKeyOf } from '../ops/matmul-tile-choice';
import type { LoadedSdxlModel } from './sdxl-model';
import type { CallOptions } from './engine';

/** Time an autotune may take at a load: a real GPU measures every SDXL shape in it; a CPU adapter the largest few. */
const BUDGET_GPU_MS = 4000;
const BUDGET_CPU_MS = 1500;
/** Asked for (the GPU page): the person waits for it, so it may take longer and cover more shapes. */
const BUDGET_ASKED_MS = 10_000;

export class EngineTuning {
  private current: StoredTuning | null = null;

  constructor(private readonly store: TuningStore | undefined) {}

  /** What the device's table holds now (null: nothing measured yet). */
  summary(): TuningSummary | null {
    return this.current?.summary ?? null;
  }

  /** Applies this adapter's stored table (once per device), measuring nothing. */
  async applyStored(ctx: GpuContext): Promise<void> {
    if (this.current || !this.store) return;
    const stored = await this.store.load(adapterKey(ctx.handle.summary)).catch(() => null);
    if (stored && applyTuning(ctx, stored)) this.current = stored;
  }

  /** Applies the stored table, then measures the model's shapes it lacks. */
  async ensure(ctx: GpuContext, model: LoadedSdxlModel, packWeights: boolean, o: CallOptions, asked = false): Promise<void> {
    const key = adapterKey(ctx.handle.summary);
    await this.applyStored(ctx);
    const problems = (await this.problemsOf(model, packWeights)).filter((p) => !ctx.tuning.has(matmulKeyOf(p)));
    if (!problems.length) return;
    const run = await autotune(ctx, problems, {
      budgetMs: asked ? BUDGET_ASKED_MS : isCpuAdapter(ctx) ? BUDGET_CPU_MS : BUDGET_GPU_MS,
      signal: o.signal,
      onProgress: (done, total) => o.onProgress?.({ status: 'load', component: 'kernel tuning', done, total }),
    });
    this.current = merge(this.current, run);
    await this.store?.save(key, this.current).catch(() => undefined); // a full quota costs a re-measure next time, nothing else
  }

  /** Forgets this adapter's table and measures the loaded model's shapes again (if one is loaded). */
  async retune(ctx: GpuContext, model: { loaded: LoadedSdxlModel; packWeights: boolean } | null, o: CallOptions): Promise<TuningSummary | null> {
    ctx.tuning.clear();
    this.current = null;
    await this.store?.clear(adapterKey(ctx.handle.summary)).catch(() => undefined);
    if (model) await this.ensure(ctx, model.loaded, model.packWeights, o, true);
    return this.summary();
  }

  /** A new device starts with an empty ctx.tuning: the table is applied again from the store. */
  forget(): void {
    this.current = null;
  }

  private problemsOf(model: LoadedSdxlModel, packWeights: boolean) {
    const f = model.parts.latentFactor;
    const side = (model.unetConfig.sample_size ?? 128) * f;
    return collectUNetMatmuls(model.unetConfig, { width: side, height: side, batch: 2, dtype: model.parts.dtype, latentFactor: f, packWeights });
  }
}

/** A table grown by a new measurement: the union of choices; the summary counts all of them. */
function merge(old: StoredTuning | null, run: StoredTuning): StoredTuning {
  if (!old) return run;
  const table = new Map([...old.table, ...run.table]);
  const s = run.summary;
  const n = old.summary.problems + s.problems;
  return {
    table: [...table],
    summary: {
      version: TUNING_VERSION,
      date: s.date,
      problems: table.size,
      heuristicRight: old.summary.heuristicRight + s.heuristicRight,
      // weighted by problem count: an estimate, as each part is
      speedup: n ? (old.summary.speedup * old.summary.problems + s.speedup * s.problems) / n : 1,
      ms: old.summary.ms + s.ms,
    },
  };
}
