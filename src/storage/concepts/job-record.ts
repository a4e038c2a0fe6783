/**
 * A concept training job as IndexedDB keeps it (job-store.ts), so a reload or a crashed tab still knows
 * it: the Teach form's settings, the photos exactly as they are trained (square crops at the training
 * size, lossless PNG, and their painted masks) and where the job stands. Schema versions:
 *   v1: { v:1, id, createdAt, order, modelId, state, settings, photos: [{name, png, mask}], taskIndex?, error? }
 * The photos are PNG bytes (encodePng/decodePng are lossless), so a resumed run trains on the very same
 * pixels as the run it continues (train-job.ts: a resumed run equals the straight run).
 * A job is one record, written with one put: never half a job.
 */
import type { SerializedError } from '../../gpu';

export const JOB_SCHEMA_VERSION = 1;

/** queued: waiting or running (a reload resumes it); paused: waits for Resume; failed: waits for Retry. */
export type JobState = 'queued' | 'paused' | 'failed';

/** The Teach form as the engine needs it (TrainJobSpec without the photos, the ids and the task). */
export interface JobSettings {
  name: string;
  classWord: string;
  placeholders: string[];
  /** 'object', 'style' or a custom caption with {}. */
  captionTemplate: string;
  resolution: number;
  steps: number;
  rank: number;
  lrLora: number;
  lrTokens: number;
  seed: number;
  masked: boolean;
  checkpointEvery: number;
  previewEvery: number;
}

export interface JobPhoto {
  /** The file name it came from (for messages). */
  name: string;
  /** resolution × resolution RGBA PNG. */
  png: ArrayBuffer;
  /** The subject mask as a grey PNG (resolution²), or null when none was painted. */
  mask: ArrayBuffer | null;
}

export interface TrainingJobRecord {
  v: 1;
  id: string;
  createdAt: number;
  /** Queue position: jobs run in ascending order. */
  order: number;
  /** The model the job trains on (it is loaded for it). */
  modelId: string;
  state: JobState;
  settings: JobSettings;
  photos: JobPhoto[];
  /** Fixed when the job first starts (spec §1.4: σ of the token init depends on it); kept for a resume. */
  taskIndex?: number;
  /** Why the job stopped (state 'failed'). */
  error?: SerializedError;
}

export class JobRecordError extends Error {
  override readonly name = 'JobRecordError';
  readonly code = 'bad-job-record';
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function settingsOk(s: unknown): s is JobSettings {
  if (!s || typeof s !== 'object') return false;
  const o = s as Record<string, unknown>;
  return (
    typeof o.name === 'string' && typeof o.classWord === 'string' && typeof o.captionTemplate === 'string' &&
    Array.isArray(o.placeholders) && o.placeholders.every((p) => typeof p === 'string') && typeof o.masked === 'boolean' &&
    ['resolution', 'steps', 'rank', 'lrLora', 'lrTokens', 'seed', 'checkpointEvery', 'previewEvery'].every((k) => isNum(o[k]))
  );
}

/** A new job record (copies every field: nothing else of the caller's objects is stored). */
export function encodeJobRecord(j: Omit<TrainingJobRecord, 'v'>): TrainingJobRecord {
  if (!j.photos.length) throw new RangeError(`job ${j.id}: a training job needs photos`);
  return {
    v: 1,
    id: j.id,
    createdAt: j.createdAt,
    order: j.order,
    modelId: j.modelId,
    state: j.state,
    settings: { ...j.settings, placeholders: [...j.settings.placeholders] },
    photos: j.photos.map((p) => ({ name: p.name, png: p.png, mask: p.mask })),
    ...(j.taskIndex !== undefined ? { taskIndex: j.taskIndex } : {}),
    ...(j.error ? { error: { name: j.error.name, code: j.error.code, message: j.error.message } } : {}),
  };
}

/** Any stored version → the current record; an unknown shape or a newer studio's record is refused by name. */
export function upgradeJobRecord(raw: unknown): TrainingJobRecord {
  const r = raw as Record<string, unknown> | null;
  if (!r || typeof r !== 'object' || typeof r.id !== 'string') throw new JobRecordError('A stored training job has no id.');
  if (r.v !== 1) throw new JobRecordError(`Training job ${r.id} has schema version ${String(r.v)}; this studio reads up to ${JOB_SCHEMA_VERSION}.`);
  const photosOk = Array.isArray(r.photos) && r.photos.length > 0 && r.photos.every((p: unknown) => {
    const o = p as Record<string, unknown> | null;
    return !!o && typeof o.name === 'string' && o.png instanceof ArrayBuffer && (o.mask === null || o.mask instanceof ArrayBuffer);
  });
  const ok = photosOk && settingsOk(r.settings) && typeof r.modelId === 'string' && isNum(r.createdAt) && isNum(r.order) &&
    (r.state === 'queued' || r.state === 'paused' || r.state === 'failed') && (r.taskIndex === undefined || isNum(r.taskIndex));
  if (!ok) throw new JobRecordError(`Training job ${r.id} is missing fields of schema version 1; cancel it and teach the concept again.`);
  return r as unknown as TrainingJobRecord;
}

/** Queue order: ascending `order`, then creation time, then id (stable across tabs and reloads). */
export function compareJobs(a: Pick<TrainingJobRecord, 'order' | 'createdAt' | 'id'>, b: Pick<TrainingJobRecord, 'order' | 'createdAt' | 'id'>): number {
  return a.order - b.order || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The job to run next: the first queued one in queue order (paused and failed jobs wait for the person). */
export function nextRunnable<T extends Pick<TrainingJobRecord, 'order' | 'createdAt' | 'id' | 'state'>>(jobs: readonly T[]): T | undefined {
  return [...jobs].sort(compareJobs).find((j) => j.state === 'queued');
}

/** The order a new job takes: after every existing one. */
export function nextOrder(jobs: readonly Pick<TrainingJobRecord, 'order'>[]): number {
  return jobs.reduce((m, j) => Math.max(m, j.order), 0) + 1;
}

/** Bytes of a record's photos (for the quota message). */
export function jobRecordBytes(r: TrainingJobRecord): number {
  return r.photos.reduce((a, p) => a + p.png.byteLength + (p.mask?.byteLength ?? 0), 0) + 2048;
}
