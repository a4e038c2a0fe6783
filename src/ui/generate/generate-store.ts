/**
 * The Generate section's state: the draft parameters a person is editing and the run in progress
 * (phase, progress, live preview, last result). Its own zustand store, beside the shell's, because it
 * changes at step rate and only the Generate section and the bridge read it.
 */
import { create } from 'zustand';
import type { SerializedError } from '../../gpu';
import type { EngineProgress, GenerateResult, Precision, PromptTruncationNotice, RgbaImage } from '../../engine/protocol';
import type { SchedulerKind } from '../../diffusion/schedulers';
import type { NoiseSource } from '../../diffusion/noise-source';
import type { FinalSigmasType } from '../../diffusion/schedulers/prediction';

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
  /** Prompts over 75 tokens: cut (diffusers) or A1111's 75-token chunks; emphasis: (word:1.2) in chunked mode. */
  promptMode: 'truncate' | 'chunked';
  emphasis: boolean;
  /** The studio's own noise, or torch's CPU generator (the seeds of ComfyUI and A1111's "RNG: CPU"). */
  noiseSource: NoiseSource;
  /** Advanced sampling (sampling-draft.ts): guidance rescale φ in [0, 1] (0 off), zero terminal SNR, DPM++ 2M's end. */
  guidanceRescale: number;
  zeroTerminalSnr: 'model' | 'on' | 'off';
  dpmFinalSigma: FinalSigmasType;
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
  /** The prompts the current (or last) run cut to 77 tokens; empty: none. */
  truncated: PromptTruncationNotice[];
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
  promptMode: 'truncate',
  emphasis: false,
  noiseSource: 'studio',
  guidanceRescale: 0,
  zeroTerminalSnr: 'model',
  dpmFinalSigma: 'zero',
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
  truncated: [],
  setDraft: (patch) => set((s) => ({ draft: { ...s.draft, ...patch } })),
}));

/** Seconds left, from the mean step time so far (null before the first step finishes). */
export function etaSeconds(step: number, steps: number, samplingStartedAt: number, now: number): number | null {
  if (step < 1 || steps <= step || samplingStartedAt <= 0) return step >= steps && steps > 0 ? 0 : null;
  const perStep = (now - samplingStartedAt) / step;
  return ((steps - step) * perStep) / 1000;
}
