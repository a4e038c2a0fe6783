/**
 * Keeps the engine's concept library (StudioEngine.setConcepts: the concepts prompts name by their
 * tokens, EWA spec §3) in step with the stored library of the model being used. Each SDXL concept is
 * ~12 MB of tensors, so the full concepts are read from IndexedDB and sent only when the library's
 * version key changed since the last send to that engine; a generate with an unchanged library costs
 * one listing of the summaries.
 */
import type { StudioEngine } from '../../engine/engine';
import type { Concept } from '../../cidm/concepts/concept';
import { getConcept, listConcepts } from '../../storage/concepts/store';
import { compareConcepts, type ConceptMeta, type ConceptSummary } from '../../storage/concepts/record';

/**
 * A key that changes whenever what the engine computes with changes: which concepts (id), in which
 * task order, their placeholders and class word, and their tensors (createdAt and size: a re-import of
 * the same export has the same key). The name is left out: a rename changes nothing the engine does,
 * so it neither resends 12 MB per concept nor makes a forgetting result out of date.
 */
export function libraryVersionKey(concepts: readonly (ConceptMeta & { tensorBytes?: number })[]): string {
  return [...concepts]
    .sort(compareConcepts)
    .map((c) => [c.id, c.taskIndex, c.createdAt, c.modelId, c.classWord, c.placeholders.join(' '), c.tensorBytes ?? ''].join('\u241f'))
    .join('\u241e');
}

export interface SyncDeps {
  list(modelId: string): Promise<ConceptSummary[]>;
  get(id: string): Promise<Concept | undefined>;
}

const storeDeps: SyncDeps = {
  list: async (modelId) => (await listConcepts(modelId)).concepts,
  get: (id) => getConcept(id),
};

export interface SyncResult {
  /** Concepts in the engine's library now. */
  count: number;
  /** Whether this call sent them (false: the engine already had this version). */
  sent: boolean;
  /** The library's version key (libraryVersionKey) for the model. */
  version: string;
}

/** What was last sent, per engine instance (a new worker starts with an empty library). */
const lastSent = new WeakMap<object, string>();
/** One sync at a time per engine, so two quick generates do not both load the tensors. */
const inFlight = new WeakMap<object, Promise<unknown>>();

/** The concept tensors; the media (thumbnails, photos) are not the engine's business and are not sent. */
function tensorsOnly(c: Concept): Concept {
  return { id: c.id, name: c.name, classWord: c.classWord, placeholders: c.placeholders, taskIndex: c.taskIndex, layers: c.layers, rank: c.rank, tokens: c.tokens, tokenWidths: c.tokenWidths, lora: c.lora, hyper: c.hyper, modelId: c.modelId, createdAt: c.createdAt };
}

/**
 * Sends `modelId`'s library (task order) to the engine if it changed since the last send. A concept
 * deleted between the listing and the read is skipped (the next sync sees the new version).
 */
export function syncEngineConcepts(engine: Pick<StudioEngine, 'setConcepts'>, modelId: string, deps: SyncDeps = storeDeps): Promise<SyncResult> {
  const prev = inFlight.get(engine) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(async (): Promise<SyncResult> => {
    const summaries = await deps.list(modelId);
    const version = libraryVersionKey(summaries);
    if (lastSent.get(engine) === `${modelId}\u241d${version}`) return { count: summaries.length, sent: false, version };
    const full: Concept[] = [];
    for (const s of summaries) {
      const c = await deps.get(s.id);
      if (c) full.push(tensorsOnly(c));
    }
    lastSent.delete(engine); // a failed send must not count as sent
    const { count } = await engine.setConcepts(full);
    lastSent.set(engine, `${modelId}\u241d${version}`);
    return { count, sent: true, version };
  });
  inFlight.set(engine, run);
  return run;
}

/** Forgets what was sent (tests; or after the engine was replaced behind the same object). */
export function resetEngineSync(engine: object): void {
  lastSent.delete(engine);
}
