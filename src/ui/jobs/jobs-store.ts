/**
 * The generation queue the header shows on every page (job-queue.ts holds the rules). Held in memory:
 * a queued Generate is a few clicks to make again, unlike a training job (training-store.ts persists
 * those because they run for hours and resume from a checkpoint).
 */
import { create } from 'zustand';
import type { GenJob } from './job-queue';

export interface JobsState {
  jobs: GenJob[];
}

export const useJobs = create<JobsState>()(() => ({ jobs: [] }));
