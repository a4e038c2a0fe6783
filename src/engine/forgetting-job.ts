/**
 * The forgetting dashboard's job (spec §5): PLACEHOLDER — replaced by the forgetting helper's work in
 * this session; it refuses rather than returning numbers it did not compute.
 */
import type { GpuContext } from '../gpu/context';
import type { Concept } from '../cidm/concepts/concept';
import type { SdxlTrainingParts } from './sdxl-model';
import type { EngineProgress, ForgettingJobSpec, ForgettingResult } from './protocol';

export interface ForgettingJobOptions {
  signal?: AbortSignal;
  onProgress?(p: EngineProgress): void;
}

export async function runForgettingJob(_ctx: GpuContext, _parts: SdxlTrainingParts, _library: readonly Concept[], _spec: ForgettingJobSpec, _o: ForgettingJobOptions): Promise<ForgettingResult> {
  throw new Error('forgetting scores are not implemented yet');
}
