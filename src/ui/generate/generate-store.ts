/**
 * The Generate section's state: the draft parameters a person is editing and the run in progress
 * (phase, progress, live preview, last result). Its own zustand store, beside the shell's, because it
 * changes at step rate and only the Generate section and the bridge read it.
 */
import { create } from 'zustand';
import type { SerializedError } from '../../gpu';
import type { EngineProgress, GenerateResult, Precision, RgbaImage } from '../../engine/protocol';
import type { SchedulerKind } from '../../diffusion/schedulers';

export interface GenerateDraft {
  prompt: string;
  negativePrompt: string;
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  scheduler: SchedulerKind;
  seed: number;
  /** Locked: reuse `seed`; unlocked: a fresh seed for every run. */
  seedLocked: boolean;
  precision: Precision;
  /** 'low': the two CFG halves run one after another and the VAE decodes in smaller tiles (slower, about half the activation memory). */
  memoryMode: 'balanced' | 'low';
  /** Images per Generate (seeds seed, seed+1, …, as other SD tools number a batch). */
  batchCount: number;
  /** Scenes: s of Eq. 4 (region guidance) and α of Eq. 5 (the global estimate's share inside regions). */
  regionGuidance: number;
  regionAlpha: number;
  /** EWA's weight form when a prompt names concepts (spec §3.3): the released code's, or the paper's ψ. */
  ewaForm: 'code' | 'paper';
}

export type GeneratePhase = 'idle' | 'loading' | 'running' | 'done' | 'cancelled' | 'error';

export interface GenerateState {
  draft: GenerateDraft;
  phase: GeneratePhase;
  progress: EngineProgress | null;
  /** Which image of a batch is running (1-based) and how many. */
  batchIndex: number;
  batchTotal: number;
  /** Current step and total while sampling. */
  step: number;
  steps: number;
  /** performance.now() at the start of the run and of sampling (for the ETA). */
  startedAt: number;
  samplingStartedAt: number;
  preview: RgbaImage | null;
  result: GenerateResult | null;
  error: SerializedError | null;
  /** A one-line message for the person (e.g. "Parameters loaded from x.png"). */
  notice: string | null;
  setDraft(patch: Partial<GenerateDraft>): void;
}

export const DEFAULT_DRAFT: GenerateDraft = {
  prompt: '',
  negativePrompt: '',
  width: 1024,
  height: 1024,
  steps: 30,
  guidanceScale: 5,
  scheduler: 'dpmpp_2m_karras',
  seed: 0,
  seedLocked: false,
  precision: 'auto',
  memoryMode: 'balanced',
  batchCount: 1,
  regionGuidance: 7.5,
  regionAlpha: 0.1,
  ewaForm: 'code',
};

export const useGenerate = create<GenerateState>()((set) => ({
  draft: DEFAULT_DRAFT,
  phase: 'idle',
  progress: null,
  batchIndex: 0,
  batchTotal: 0,
  step: 0,
  steps: 0,
  startedAt: 0,
  samplingStartedAt: 0,
  preview: null,
  result: null,
  error: null,
  notice: null,
  setDraft: (patch) => set((s) => ({ draft: { ...s.draft, ...patch } })),
}));

/** Seconds left, from the mean step time so far (null before the first step finishes). */
export function etaSeconds(step: number, steps: number, samplingStartedAt: number, now: number): number | null {
  if (step < 1 || steps <= step || samplingStartedAt <= 0) return step >= steps && steps > 0 ? 0 : null;
  const perStep = (now - samplingStartedAt) / step;
  return ((steps - step) * perStep) / 1000;
}
