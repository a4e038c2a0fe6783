/**
 * The Generate draft's advanced sampling fields ↔ the engine's SamplingOptions (diffusion/sampling-options.ts)
 * and the PNG parameters: only what differs from the defaults is sent or written, so a draft left alone
 * samples exactly as before. The range message is the form's; the engine refuses the same values by name.
 */
import type { SamplingOptions } from '../../diffusion/sampling-options';
import type { ImageParameters } from '../../storage/png/parameters';
import type { GenerateDraft } from './generate-store';

export type SamplingDraft = Pick<GenerateDraft, 'guidanceRescale' | 'zeroTerminalSnr' | 'dpmFinalSigma'>;

/** The form's message for a guidance rescale outside [0, 1] (null when it is fine). */
export function guidanceRescaleError(v: number): string | null {
  return Number.isFinite(v) && v >= 0 && v <= 1 ? null : 'Guidance rescale: a number from 0 (off) to 1.';
}

export function draftSamplingOptions(d: SamplingDraft): SamplingOptions {
  return {
    ...(d.guidanceRescale !== 0 ? { guidanceRescale: d.guidanceRescale } : {}),
    ...(d.zeroTerminalSnr !== 'model' ? { zeroTerminalSnr: d.zeroTerminalSnr === 'on' } : {}),
    dpmFinalSigma: d.dpmFinalSigma,
  };
}

/** The draft fields an image's parameters restore (defaults where the text has none). */
export function samplingDraftFrom(p: ImageParameters): SamplingDraft {
  return {
    guidanceRescale: p.guidanceRescale ?? 0,
    zeroTerminalSnr: p.zeroTerminalSnr ? 'on' : 'model',
    dpmFinalSigma: p.dpmFinalSigma ?? 'zero',
  };
}
