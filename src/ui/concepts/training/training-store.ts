/**
 * The Training tab's state: the stored jobs in queue order (job-store.ts), the live numbers of the one
 * that runs (step, loss curve, it/s, ETA, the latest preview) and what the last run said. Plain data;
 * the runner (runner.ts) owns the engine calls and writes here.
 */
import { create } from 'zustand';
import type { SerializedError } from '../../../gpu';
import type { RgbaImage } from '../../../engine/protocol';
import type { TrainingJobRecord } from '../../../storage/concepts/job-record';

export type RunPhase = 'waiting' | 'loading' | 'preparing' | 'training' | 'saving';

export interface LiveRun {
  jobId: string;
  phase: RunPhase;
  /** The model loading's component and progress, while phase is 'loading'. */
  loading: string | null;
  step: number;
  steps: number;
  /** Loss of every completed step (a resumed run includes the steps before its checkpoint). */
  losses: number[];
  lr: number;
  itPerSec: number;
  etaMs: number;
  tokensFrozen: boolean;
  preview: { step: number; image: RgbaImage } | null;
  /** The checkpoint step this run resumed from, or null for a fresh start. */
  resumedFrom: number | null;
  /** The last checkpoint written in this run. */
  savedStep: number | null;
  startedAt: number;
}

export interface TrainingState {
  jobs: TrainingJobRecord[];
  /** Stored jobs that could not be read (by key). */
  unreadable: string[];
  /** The highest checkpoint step of each job that has one. */
  checkpoints: Record<string, number>;
  loaded: boolean;
  live: LiveRun | null;
  /** The last thing the runner wants said: a concept saved, a job resumed, a job cancelled. */
  notice: { kind: 'ok' | 'info' | 'bad'; text: string } | null;
  /** An error about the queue itself (the store could not be read or written). */
  error: SerializedError | null;
}

export const useTraining = create<TrainingState>(() => ({
  jobs: [],
  unreadable: [],
  checkpoints: {},
  loaded: false,
  live: null,
  notice: null,
  error: null,
}));

export function patchLive(patch: Partial<LiveRun>): void {
  const live = useTraining.getState().live;
  if (live) useTraining.setState({ live: { ...live, ...patch } });
}

export function newLive(jobId: string, steps: number): LiveRun {
  return { jobId, phase: 'waiting', loading: null, step: 0, steps, losses: [], lr: 0, itPerSec: 0, etaMs: 0, tokensFrozen: false, preview: null, resumedFrom: null, savedStep: null, startedAt: performance.now() };
}
