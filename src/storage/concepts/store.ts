/**
 * The concept library's idb-keyval store (its own database, DESIGN.md: one store per concern). A
 * concept is one IndexedDB put of its whole record (record.ts: metadata, media and the packed tensors
 * as a Blob), so a crash never leaves half a concept. Reads upgrade old records and write the upgrade
 * back once; a refused write becomes StorageQuotaError.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import type { Concept } from '../../cidm/concepts/concept';
import { isQuotaExceeded, StorageQuotaError, availableBytes } from '../errors';
import { ConceptNotFoundError } from './errors';
import {
  compareConcepts,
  consolidatedAgainst,
  CONCEPT_SCHEMA_VERSION,
  conceptRecordBytes,
  decodeConceptRecord,
  encodeConceptRecord,
  matchesConceptQuery,
  nextTaskIndex,
  summarizeConcept,
  upgradeConceptRecord,
  type ConceptMedia,
  type ConceptRecord,
  type ConceptSummary,
  type StoredConcept,
} from './record';

export const CONCEPTS_DB = 'cidm-concepts';
let store: UseStore | undefined;

function db(): UseStore {
  store ??= createStore(CONCEPTS_DB, 'concepts');
  return store;
}


/** One put; QuotaExceededError (at the put or at commit) becomes StorageQuotaError. */
async function write(r: ConceptRecord): Promise<void> {
  try {
    await set(r.id, r, db());
  } catch (err) {
    if (isQuotaExceeded(err)) throw new StorageQuotaError(conceptRecordBytes(r), await availableBytes(), `concept "${r.name}"`);
    throw err;
  }
}

async function readRecord(id: string): Promise<ConceptRecord | undefined> {
  const raw = await get<unknown>(id, db());
  if (raw === undefined) return undefined;
  const r = upgradeConceptRecord(raw);
  if ((raw as { v: number }).v !== CONCEPT_SCHEMA_VERSION) await write(r);
  return r;
}

/** Stores (or replaces) a concept with its thumbnails, samples and loss curve, atomically. */
export async function putConcept(c: Concept & Partial<ConceptMedia>): Promise<void> {
  await write(encodeConceptRecord(c));
}

/** The whole concept (tensors as views into one buffer), or undefined when there is none with that id. */
export async function getConcept(id: string): Promise<StoredConcept | undefined> {
  const r = await readRecord(id);
  return r && decodeConceptRecord(r);
}

/**
 * Every concept without its tensors, in task order (taskIndex), optionally only those trained on
 * `modelId`. Unreadable records are reported by key, not dropped.
 */
export async function listConcepts(modelId?: string): Promise<{ concepts: ConceptSummary[]; unreadable: string[] }> {
  const concepts: ConceptSummary[] = [];
  const unreadable: string[] = [];
  for (const [key, raw] of await entries<string, unknown>(db())) {
    try {
      const r = upgradeConceptRecord(raw);
      if ((raw as { v: number }).v !== CONCEPT_SCHEMA_VERSION) await write(r);
      if (modelId === undefined || r.modelId === modelId) concepts.push(summarizeConcept(r));
    } catch (err) {
      if (err instanceof StorageQuotaError) throw err;
      unreadable.push(String(key));
    }
  }
  concepts.sort(compareConcepts);
  return { concepts, unreadable };
}

/** Concepts whose name, class word or a placeholder contains every term of `query` (task order). */
export async function searchConcepts(query: string, modelId?: string): Promise<ConceptSummary[]> {
  return (await listConcepts(modelId)).concepts.filter((c) => matchesConceptQuery(c, query));
}

/** The task index for the next concept trained on `modelId`. */
export async function nextConceptTaskIndex(modelId: string): Promise<number> {
  return nextTaskIndex((await listConcepts(modelId)).concepts, modelId);
}

export async function renameConcept(id: string, name: string): Promise<void> {
  const r = await readRecord(id);
  if (!r) throw new ConceptNotFoundError(id);
  await write({ ...r, name });
}

/** The concepts that were consolidated against `id` (later tasks on the same model), for a warning before deleting it. */
export async function conceptsConsolidatedAgainst(id: string): Promise<ConceptSummary[]> {
  const { concepts } = await listConcepts();
  const target = concepts.find((c) => c.id === id);
  return target ? consolidatedAgainst(target, concepts) : [];
}

/**
 * Deletes the concept and returns the later concepts on its model that were consolidated against it
 * (empty when it was the newest task, or not there).
 */
export async function deleteConcept(id: string): Promise<ConceptSummary[]> {
  const later = await conceptsConsolidatedAgainst(id);
  await del(id, db());
  return later;
}

/** Bytes the library takes: packed tensors plus thumbnails and samples. */
export async function conceptLibraryBytes(): Promise<number> {
  let n = 0;
  for (const [, raw] of await entries<string, unknown>(db())) {
    try {
      n += conceptRecordBytes(upgradeConceptRecord(raw));
    } catch {
      // An unreadable record's size is unknown; listConcepts reports it.
    }
  }
  return n;
}
