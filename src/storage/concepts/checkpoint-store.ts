/**
 * Training checkpoints of in-progress concept jobs: their own idb-keyval database, keyed [jobId, step].
 * A checkpoint is one put, and the older checkpoints it supersedes are deleted in the same
 * transaction, so a crash leaves either the previous checkpoint or the new one, never half of one
 * and never neither. The finished concept goes to the library (store.ts); then the job's checkpoints
 * are deleted.
 */
import { createStore, keys, promisifyRequest, type UseStore } from 'idb-keyval';
import { isQuotaExceeded, StorageQuotaError, availableBytes } from '../errors';
import { checkpointKey, decodeCheckpoint, encodeCheckpoint, upgradeCheckpointRecord, type CheckpointRecord, type TrainingCheckpoint } from './checkpoint-record';

export const CHECKPOINTS_DB = 'cidm-training-checkpoints';
let store: UseStore | undefined;

function db(): UseStore {
  store ??= createStore(CHECKPOINTS_DB, 'checkpoints');
  return store;
}

/** Every key of one job: [jobId, -∞] … [jobId, +∞] (numbers sort inside an array key). */
function jobRange(jobId: string): IDBKeyRange {
  return IDBKeyRange.bound([jobId, -Infinity], [jobId, Infinity]);
}

function recordBytes(r: CheckpointRecord): number {
  let n = r.trainerJson.length + r.configJson.length;
  for (const g of Object.values(r.groups)) n += g.param.byteLength + g.expAvg.byteLength + g.expAvgSq.byteLength;
  return n;
}


export interface PutCheckpointOptions {
  /**
   * Checkpoints of the job to keep, this one included (default 1). Older ones beyond that, and any of
   * a higher step (left by a run that was resumed from an earlier point), are deleted with the put.
   */
  keep?: number;
}

/** Writes a checkpoint atomically (one put) and prunes the job's older ones in the same transaction. */
export async function putCheckpoint(c: TrainingCheckpoint<unknown, unknown>, o: PutCheckpointOptions = {}): Promise<void> {
  const keep = Math.max(1, Math.floor(o.keep ?? 1));
  const r = encodeCheckpoint(c);
  try {
    await db()('readwrite', (s) => {
      s.put(r, checkpointKey(r.jobId, r.step));
      const req = s.getAllKeys(jobRange(r.jobId));
      req.onsuccess = () => {
        const others = (req.result as [string, number][]).filter((k) => k[1] !== r.step);
        const older = others.filter((k) => k[1] < r.step).sort((a, b) => b[1] - a[1]);
        for (const k of [...others.filter((k) => k[1] > r.step), ...older.slice(keep - 1)]) s.delete(k);
      };
      return promisifyRequest(s.transaction);
    });
  } catch (err) {
    if (isQuotaExceeded(err)) throw new StorageQuotaError(recordBytes(r), await availableBytes(), `training checkpoint (job ${r.jobId}, step ${r.step})`);
    throw err;
  }
}

/** The job's checkpoint with the highest step, or undefined when it has none. */
export async function latestCheckpoint<S = unknown, C = unknown>(jobId: string): Promise<TrainingCheckpoint<S, C> | undefined> {
  const raw = await db()('readonly', (s) => {
    const req = s.openCursor(jobRange(jobId), 'prev');
    return promisifyRequest(req).then((cursor) => cursor?.value as unknown);
  });
  return raw === undefined ? undefined : decodeCheckpoint<S, C>(upgradeCheckpointRecord(raw));
}

/** Deletes every checkpoint of the job (after it finished, or when the person discards it). */
export async function deleteCheckpoints(jobId: string): Promise<void> {
  await db()('readwrite', (s) => {
    s.delete(jobRange(jobId));
    return promisifyRequest(s.transaction);
  });
}

/** Jobs that have checkpoints, with their stored steps ascending (to offer "resume training" after a reload). */
export async function listCheckpointJobs(): Promise<{ jobId: string; steps: number[] }[]> {
  const byJob = new Map<string, number[]>();
  for (const k of await keys<IDBValidKey>(db())) {
    if (!Array.isArray(k) || typeof k[0] !== 'string' || typeof k[1] !== 'number') continue;
    byJob.set(k[0], [...(byJob.get(k[0]) ?? []), k[1]]);
  }
  return [...byJob].map(([jobId, steps]) => ({ jobId, steps: steps.sort((a, b) => a - b) }));
}
