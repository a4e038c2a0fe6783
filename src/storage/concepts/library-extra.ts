/**
 * The forgetting dashboard's last result per model (issue 11 point 6), kept beside the concept
 * library in its own idb-keyval database (DESIGN.md: one store per concern): the matrix, the library
 * version it was computed for (so the page can say "out of date" after a concept is added, deleted or
 * re-imported) and the names at that time. Small: K² numbers.
 */
import { createStore, get, set, type UseStore } from 'idb-keyval';
import type { ForgettingResult } from '../../engine/protocol';

export const FORGETTING_DB = 'cidm-forgetting';
export const FORGETTING_SCHEMA_VERSION = 1;

export interface ForgettingEntry {
  v: 1;
  modelId: string;
  /** The library version key (ui/concepts/engine-sync.ts libraryVersionKey) the scores belong to. */
  version: string;
  computedAt: number;
  result: ForgettingResult;
  /** Concept names and task numbers by id when computed (a later delete still leaves a readable table). */
  names: Record<string, string>;
  tasks: Record<string, number>;
  /** Concepts without training photos (not scored). */
  unscored: string[];
  seed: number;
}

let store: UseStore | undefined;
const db = () => (store ??= createStore(FORGETTING_DB, 'results'));

function isEntry(x: unknown): x is ForgettingEntry {
  const e = x as Partial<ForgettingEntry> | null;
  return !!e && e.v === 1 && typeof e.modelId === 'string' && typeof e.version === 'string' && typeof e.computedAt === 'number' &&
    !!e.result && Array.isArray(e.result.conceptIds) && Array.isArray(e.result.matrix) && typeof e.names === 'object' && Array.isArray(e.unscored);
}

/** The last result for the model, or null (none, or a record this studio cannot read: it is simply recomputed). */
export async function getForgettingEntry(modelId: string): Promise<ForgettingEntry | null> {
  const raw = await get<unknown>(modelId, db());
  return isEntry(raw) ? raw : null;
}

export async function putForgettingEntry(e: ForgettingEntry): Promise<void> {
  await set(e.modelId, e, db());
}
