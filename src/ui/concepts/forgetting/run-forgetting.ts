/**
 * One "Compute" of the forgetting dashboard (issue 11 point 6; spec §5): load the model, send it the
 * library (engine-sync), build each concept's probe from its training photos, and ask the engine for
 * matrix[j][i] (progress 'forgetting', cancellable). Dependencies are passed in, so the sequence is
 * tested with a fake engine; forgetting-store.ts runs it against the page's engine and IndexedDB.
 */
import type { StudioEngine } from '../../../engine/engine';
import type { EngineProgress, Precision } from '../../../engine/protocol';
import type { ForgettingEntry } from '../../../storage/concepts/library-extra';
import type { ConceptSummary } from '../../../storage/concepts/record';
import { compareConcepts } from '../../../storage/concepts/record';
import type { SyncResult } from '../engine-sync';
import { buildProbes, type DecodeImage } from './probes';

/** Fixed (timestep, noise) draws: the same seed for every cell and every recompute, so runs compare. */
export const FORGETTING_SEED = 2024;

export type ForgettingPhase =
  | { phase: 'load'; progress: EngineProgress | null }
  | { phase: 'photos'; photos: number }
  | { phase: 'scores'; done: number; total: number };

export interface RunForgettingDeps {
  engine: Pick<StudioEngine, 'load' | 'forgetting'>;
  /** The model's concepts (summaries with their training photos). */
  list(modelId: string): Promise<ConceptSummary[]>;
  sync(modelId: string): Promise<SyncResult>;
  decode: DecodeImage;
  now?(): number;
}

export class NothingToScoreError extends Error {
  override readonly name = 'NothingToScoreError';
  readonly code = 'nothing-to-score';
  constructor(count: number) {
    super(count === 0
      ? 'The active model has no concepts yet: teach or import one first.'
      : `None of the ${count} concept${count === 1 ? '' : 's'} has training photos stored (imported concepts carry none), so there is nothing to score them on. Concepts taught in this studio are scored on their own photos.`);
  }
}

export async function runForgetting(deps: RunForgettingDeps, modelId: string, precision: Precision, o: { signal?: AbortSignal; onPhase?(p: ForgettingPhase): void } = {}): Promise<ForgettingEntry> {
  const concepts = [...(await deps.list(modelId))].sort(compareConcepts);
  const withPhotos = concepts.filter((c) => (c.trainingPhotos?.length ?? 0) > 0);
  if (withPhotos.length === 0) throw new NothingToScoreError(concepts.length);
  o.onPhase?.({ phase: 'load', progress: null });
  await deps.engine.load({ type: 'stored', id: modelId }, precision, { signal: o.signal, onProgress: (progress) => o.onPhase?.({ phase: 'load', progress }) });
  const { version } = await deps.sync(modelId);
  const photos = withPhotos.reduce((a, c) => a + (c.trainingPhotos?.length ?? 0), 0);
  o.onPhase?.({ phase: 'photos', photos });
  const { probes, unscored } = await buildProbes(concepts, deps.decode, o.signal);
  const result = await deps.engine.forgetting(
    { probes, seed: FORGETTING_SEED },
    { signal: o.signal, onProgress: (p) => p.status === 'forgetting' && o.onPhase?.({ phase: 'scores', done: p.done, total: p.total }) },
  );
  return {
    v: 1,
    modelId,
    // the version the engine scored (sync's listing); a library changed since then reads as out of date
    version,
    computedAt: (deps.now ?? Date.now)(),
    result,
    names: Object.fromEntries(concepts.map((c) => [c.id, c.name])),
    tasks: Object.fromEntries(concepts.map((c) => [c.id, c.taskIndex])),
    unscored,
    seed: FORGETTING_SEED,
  };
}
