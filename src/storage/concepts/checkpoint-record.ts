/**
 * A training checkpoint of an in-progress concept job (DESIGN.md "Training": written atomically, a
 * reload resumes) and its schema versions:
 *   v1: { v:1, jobId, step, createdAt, groups: { <group>: { param, expAvg, expAvgSq: ArrayBuffer } },
 *         trainerJson, configJson }
 * The groups are the optimizer's flat f32 buffers (src/cidm/train/flat-params.ts: 'lora' and 'tokens',
 * padding included, so they are written back whole); the trainer state (CidmTrainer.checkpoint():
 * step counters, the token-norm stop) and the job's config are kept as JSON text, so only plain data
 * is ever stored. Gradients are not kept: every step zeroes them first.
 */
import { CheckpointRecordError } from './errors';

export const CHECKPOINT_SCHEMA_VERSION = 1;

export interface CheckpointGroup {
  param: Float32Array;
  /** AdamW first and second moments. */
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

export interface TrainingCheckpoint<S = unknown, C = unknown> {
  jobId: string;
  /** Completed steps. */
  step: number;
  createdAt: number;
  groups: Record<string, CheckpointGroup>;
  /** The trainer's own state (JSON-serialisable). */
  trainer: S;
  /** The job's configuration (JSON-serialisable). */
  config: C;
}

export interface CheckpointRecordV1 {
  v: 1;
  jobId: string;
  step: number;
  createdAt: number;
  groups: Record<string, { param: ArrayBuffer; expAvg: ArrayBuffer; expAvgSq: ArrayBuffer }>;
  trainerJson: string;
  configJson: string;
}

export type CheckpointRecord = CheckpointRecordV1;

/** The IndexedDB key: [jobId, step], so a job's checkpoints sort by step. */
export function checkpointKey(jobId: string, step: number): [string, number] {
  return [jobId, step];
}

function json(value: unknown, what: string): string {
  const s = JSON.stringify(value);
  if (s === undefined) throw new TypeError(`checkpoint: the ${what} is not JSON-serialisable`);
  return s;
}

/** Copies the values into a buffer of exactly their size (a view's whole underlying buffer would otherwise be stored). */
const own = (a: Float32Array): ArrayBuffer => new Float32Array(a).buffer;

export function encodeCheckpoint(c: TrainingCheckpoint): CheckpointRecord {
  if (!Number.isSafeInteger(c.step) || c.step < 0) throw new RangeError(`checkpoint: step ${c.step} is not a count of steps`);
  const groups: CheckpointRecord['groups'] = {};
  for (const [name, g] of Object.entries(c.groups)) {
    if (g.expAvg.length !== g.param.length || g.expAvgSq.length !== g.param.length) {
      throw new RangeError(`checkpoint: group ${name} has ${g.param.length} params but moments of ${g.expAvg.length} and ${g.expAvgSq.length}`);
    }
    groups[name] = { param: own(g.param), expAvg: own(g.expAvg), expAvgSq: own(g.expAvgSq) };
  }
  return { v: 1, jobId: c.jobId, step: c.step, createdAt: c.createdAt, groups, trainerJson: json(c.trainer, 'trainer state'), configJson: json(c.config, 'config') };
}

/** The checkpoint, its arrays viewing the record's buffers (a record read from IndexedDB is a fresh copy). */
export function decodeCheckpoint<S = unknown, C = unknown>(r: CheckpointRecord): TrainingCheckpoint<S, C> {
  const bad = (why: string) => new CheckpointRecordError(`The checkpoint of job ${r.jobId} at step ${r.step} is damaged: ${why}. Start the training again.`);
  const groups: Record<string, CheckpointGroup> = {};
  for (const [name, g] of Object.entries(r.groups)) {
    const n = g.param.byteLength;
    if (n % 4 !== 0 || g.expAvg.byteLength !== n || g.expAvgSq.byteLength !== n) throw bad(`group ${name} has buffers of ${n}, ${g.expAvg.byteLength} and ${g.expAvgSq.byteLength} bytes`);
    groups[name] = { param: new Float32Array(g.param), expAvg: new Float32Array(g.expAvg), expAvgSq: new Float32Array(g.expAvgSq) };
  }
  let trainer: S, config: C;
  try {
    trainer = JSON.parse(r.trainerJson) as S;
    config = JSON.parse(r.configJson) as C;
  } catch (err) {
    throw bad(`its JSON does not parse (${(err as Error).message})`);
  }
  return { jobId: r.jobId, step: r.step, createdAt: r.createdAt, groups, trainer, config };
}

/** Any stored version → the current record; a newer studio's record or an unknown shape is refused. */
export function upgradeCheckpointRecord(raw: unknown): CheckpointRecord {
  const r = raw as Record<string, unknown> | null;
  if (!r || typeof r !== 'object' || typeof r.jobId !== 'string' || typeof r.step !== 'number') {
    throw new CheckpointRecordError('A stored training checkpoint has no job id or step.');
  }
  if (r.v !== 1) {
    throw new CheckpointRecordError(`The checkpoint of job ${r.jobId} has schema version ${String(r.v)}; this studio reads up to ${CHECKPOINT_SCHEMA_VERSION}.`);
  }
  const groupsOk =
    typeof r.groups === 'object' && r.groups !== null &&
    Object.values(r.groups).every((g: unknown) => {
      const o = g as Record<string, unknown> | null;
      return !!o && o.param instanceof ArrayBuffer && o.expAvg instanceof ArrayBuffer && o.expAvgSq instanceof ArrayBuffer;
    });
  if (!groupsOk || typeof r.trainerJson !== 'string' || typeof r.configJson !== 'string' || typeof r.createdAt !== 'number') {
    throw new CheckpointRecordError(`The checkpoint of job ${r.jobId} is missing fields of schema version 1.`);
  }
  return r as unknown as CheckpointRecordV1;
}
