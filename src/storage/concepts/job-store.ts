/**
 * Concept training jobs (job-record.ts) in their own idb-keyval database (DESIGN.md: one store per
 * concern). Each write is one put of the whole record, so a crash leaves the previous record or the new
 * one. The checkpoints of a job live in checkpoint-store.ts, keyed by the same job id.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import { isQuotaExceeded, StorageQuotaError, availableBytes } from '../errors';
import { compareJobs, encodeJobRecord, jobRecordBytes, upgradeJobRecord, type TrainingJobRecord } from './job-record';

export const JOBS_DB = 'cidm-training-jobs';
let store: UseStore | undefined;

function db(): UseStore {
  store ??= createStore(JOBS_DB, 'jobs');
  return store;
}


/** Stores (or replaces) a job, atomically; a refused write becomes StorageQuotaError. */
export async function putJob(j: Omit<TrainingJobRecord, 'v'>): Promise<TrainingJobRecord> {
  const r = encodeJobRecord(j);
  try {
    await set(r.id, r, db());
  } catch (err) {
    if (isQuotaExceeded(err)) throw new StorageQuotaError(jobRecordBytes(r), await availableBytes(), `training job "${r.settings.name}"`);
    throw err;
  }
  return r;
}

export async function getJob(id: string): Promise<TrainingJobRecord | undefined> {
  const raw = await get<unknown>(id, db());
  return raw === undefined ? undefined : upgradeJobRecord(raw);
}

/** Every job in queue order; records that cannot be read are reported by key, not dropped silently. */
export async function listJobs(): Promise<{ jobs: TrainingJobRecord[]; unreadable: string[] }> {
  const jobs: TrainingJobRecord[] = [];
  const unreadable: string[] = [];
  for (const [key, raw] of await entries<string, unknown>(db())) {
    try {
      jobs.push(upgradeJobRecord(raw));
    } catch {
      unreadable.push(String(key));
    }
  }
  return { jobs: jobs.sort(compareJobs), unreadable };
}

export async function deleteJob(id: string): Promise<void> {
  await del(id, db());
}
