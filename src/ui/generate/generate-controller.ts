/**
 * Runs a generation from the draft: load the active model into the engine if needed, sample with
 * progress and preview, keep the result. Cancel aborts the running request (the engine stops within
 * one step). Keyboard: Ctrl/Cmd+Enter generates, Esc cancels (installed by the Generate page).
 */
import { namedConcepts } from '../../engine/concept-prompt';
import { listConcepts } from '../../storage/concepts/store';
import { serializeError } from '../../gpu';
import { isAbort } from '../../engine/errors';
import type { GenerateParams, GenerateResult } from '../../engine/protocol';
import { MAX_SEED, randomSeed } from '../../diffusion/rng';
import { studioEngine } from '../engine-service';
import { syncEngineConcepts } from '../concepts/engine-sync';
import { useGenerate } from './generate-store';
import { snapSide } from './sizes';
import { draftSamplingOptions } from './sampling-draft';
import { resolveLoras } from '../loras/loras-store';

let running: AbortController | null = null;

export function isGenerating(): boolean {
  return running !== null;
}

export function cancelGeneration(): void {
  running?.abort();
}

export interface GenerateHooks {
  /** Called with each finished image (the gallery stores it). */
  onResult?(r: GenerateResult): void | Promise<void>;
}

/** Runs the draft; `overrides` replace draft fields (a scene supplies its size, prompts and regions). */
export async function generate(modelId: string | null, hooks: GenerateHooks = {}, overrides: Partial<GenerateParams> = {}): Promise<GenerateResult | null> {
  if (running) return null;
  const store = useGenerate;
  const { draft } = store.getState();
  if (!modelId) {
    store.setState({ phase: 'error', error: { name: 'NoModelLoadedError', code: 'no-model', message: 'No model is chosen. Import an SDXL model on the Models page and choose it.' } });
    return null;
  }
  const seed = draft.seedLocked ? draft.seed : randomSeed();
  if (!draft.seedLocked) store.getState().setDraft({ seed });
  const params: GenerateParams = {
    prompt: draft.prompt,
    negativePrompt: draft.negativePrompt,
    width: snapSide(draft.width),
    height: snapSide(draft.height),
    steps: draft.steps,
    guidanceScale: draft.guidanceScale,
    scheduler: draft.scheduler,
    seed,
    previewEvery: 1,
    memoryMode: draft.memoryMode,
    ewaForm: draft.ewaForm,
    // only when chosen, so a default run's parameters (gallery, PNG) stay as they were
    ...(draft.promptMode === 'chunked' ? { promptMode: 'chunked' as const, emphasis: draft.emphasis } : {}),
    noiseSource: draft.noiseSource,
    ...draftSamplingOptions(draft),
    ...overrides,
  };
  const ac = new AbortController();
  running = ac;
  const t0 = performance.now();
  const total = Math.max(1, Math.min(16, Math.round(draft.batchCount || 1)));
  store.setState({ phase: 'loading', progress: null, step: 0, steps: draft.steps, startedAt: t0, samplingStartedAt: 0, preview: null, error: null, batchIndex: 0, batchTotal: total, truncated: [] });
  const engine = studioEngine();
  let last: GenerateResult | null = null;
  try {
    // the engine holds only this model's concepts: a word of a concept learned on another model is
    // refused here by name instead of being read as plain text
    namedConcepts([params.prompt, ...(params.regions ?? []).map((r) => r.prompt)], (await listConcepts()).concepts, modelId);
    // the <lora:name:w> tags of every prompt, resolved to stored files (an unknown name is refused here, by name)
    const loras = await resolveLoras([params.prompt, params.negativePrompt, ...(params.regions ?? []).flatMap((r) => [r.prompt, r.negativePrompt])]);
    if (loras.length) params.loras = loras;
    await engine.load({ type: 'stored', id: modelId }, draft.precision, { signal: ac.signal, onProgress: (progress) => store.setState({ progress }) });
    // the model's concept library, for prompts and regions that name concepts (sent only when it changed)
    await syncEngineConcepts(engine, modelId);
    for (let b = 0; b < total; b++) {
      // a batch numbers its seeds seed, seed+1, … so each image can be made again on its own
      const p = { ...params, seed: (params.seed + b) % (MAX_SEED + 1) };
      store.setState({ phase: 'running', batchIndex: b + 1, step: 0, samplingStartedAt: 0 });
      const result = await engine.generate(p, {
        signal: ac.signal,
        onProgress: (progress) => {
          if (progress.status === 'step') {
            store.setState({
              progress,
              step: progress.step,
              steps: progress.steps,
              samplingStartedAt: progress.step === 0 ? performance.now() : store.getState().samplingStartedAt,
              preview: progress.preview ?? store.getState().preview,
            });
          } else if (progress.status === 'encode') store.setState({ progress, truncated: progress.truncated ?? [] });
          else store.setState({ progress });
        },
      });
      last = result;
      store.setState({ result });
      await hooks.onResult?.(result);
    }
    store.setState({ phase: 'done', progress: { status: 'done' } });
    return last;
  } catch (err) {
    if (isAbort(err)) store.setState({ phase: 'cancelled', progress: null });
    else store.setState({ phase: 'error', error: serializeError(err), progress: null });
    return null;
  } finally {
    running = null;
  }
}
