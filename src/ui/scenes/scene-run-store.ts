/**
 * The Scenes page's view of its last run (issue 13 point 5): the queue job it is, the seed it uses,
 * its outcome and image. Progress and the live preview come from the Generate store while that job
 * is the one running (the engine runs one job at a time); the finished image is kept here, so a run
 * of the Generate page afterwards does not replace what the Scenes page shows.
 */
import { create } from 'zustand';
import type { RgbaImage } from '../../engine/protocol';

export type SceneRunPhase = 'idle' | 'queued' | 'done' | 'cancelled' | 'error';

export interface SceneRunState {
  /** The queue job of the last run; null before it is queued (or when it was refused). */
  jobId: number | null;
  sceneName: string;
  /** The seed the run uses (a fresh one when the scene's seed is not locked). */
  seed: number | null;
  /** 'queued' covers queued and running: the job's own state says which. */
  phase: SceneRunPhase;
  image: RgbaImage | null;
  /** A plain sentence, when the run was refused or failed. */
  error: string | null;
}

export const IDLE_RUN: SceneRunState = { jobId: null, sceneName: '', seed: null, phase: 'idle', image: null, error: null };

export const useSceneRun = create<SceneRunState>()(() => IDLE_RUN);
