/**
 * Runs generations from the draft through the queue (src/ui/jobs): Generate and a scene's Generate add
 * a job with the settings of that moment; jobs run one at a time (load the active model into the
 * engine if needed, sample with progress and preview, keep the result). Cancel of the running job
 * aborts its request (the engine stops within one UNet block); of a queued one, removes it.
 * Keyboard: Ctrl/Cmd+Enter generates, Esc cancels (installed by the Generate page).
 */
import { namedConcepts } from '../../engine/concept-prompt';
import { listConcepts } from '../../storage/concepts/store';
import { serializeError } from '../../gpu';
import { isAbort } from '../../engine/errors';
import type { GenerateParams, GenerateResult } from '../../engine/protocol';
import { MAX_SEED, randomSeed } from '../../diffusion/rng';
import { studioEngine } from '../engine-service';
import { syncEngineConcepts } from '../concepts/engine-sync';
import { useGenerate, type GenerateDraft } from './generate-store';
import { draftSamplingOptions } from './sampling-draft';
import { resolveLoras } from '../loras/loras-store';
import { useJobs } from '../jobs/jobs-store';
import { cancel, current, enqueue, finish, nextToStart, progress as jobProgress, start } from '../jobs/job-queue';
import { recordStepTime } from '../jobs/step-times-store';
import { adapterKey, stepTimeKey } from '../jobs/step-times';
import { useStudio } from '../store';
import { draftErrors, generateRules } from '../validation/fields';
import { anyFieldError } from '../validation/field-errors';
import { readLatentFactor } from './latent-factor';

interface QueuedRun {
  modelId: string;
  hooks: GenerateHooks;
  params: GenerateParams;
  draft: GenerateDraft;
  /** Images in this run (a batch numbers its seeds seed, seed+1, …). */
  images: number;
  ac: AbortController;
  resolve(r: GenerateResult | null): void;
}

const runs = new Map<number, QueuedRun>();
let nextJobId = 1;

export function isGenerating(): boolean {
  return current(useJobs.getState().jobs) !== undefined;
}

/** Cancels one job: a queued one leaves the queue now; the running one shows "Cancelling…" and stops within one UNet block. */
export function cancelJob(id: number): void {
  const r = cancel(useJobs.getState().jobs, id);
  useJobs.setState({ jobs: r.jobs });
  const run = runs.get(id);
  if (r.abort) run?.ac.abort();
  else if (run && !r.jobs.some((j) => j.id === id)) {
    runs.delete(id);
    run.resolve(null);
  }
}

/** Cancels the running job (Esc, the preview's Cancel). */
export function cancelGeneration(): void {
  const job = current(useJobs.getState().jobs);
  if (job) cancelJob(job.id);
}

export interface GenerateHooks {
  /** Called with each finished image (the gallery stores it). */
  onResult?(r: GenerateResult): void | Promise<void>;
}

/** How a caller names its job in the queue and sizes it (a scene: its name, one image). */
export interface JobOptions {
  /** The queue's name for the job; default the prompt's start. */
  label?: string;
  /** Images in this run; default the draft's batch count. */
  images?: number;
  /** Called with the job's id once it is in the queue (not called when the run is refused before). */
  onQueued?(jobId: number): void;
}

/**
 * Runs the draft; `overrides` replace draft fields (a scene supplies its size, prompts, regions and its
 * own steps, sampler, CFG and seed: a seed given here leaves the Generate panel's seed alone).
 */
export async function generate(modelId: string | null, hooks: GenerateHooks = {}, overrides: Partial<GenerateParams> = {}, job: JobOptions = {}): Promise<GenerateResult | null> {
  const store = useGenerate;
  const { draft } = store.getState();
  if (!modelId) {
    store.setState({ phase: 'error', error: { name: 'NoModelLoadedError', code: 'no-model', message: 'No model is chosen. Import an SDXL model on the Models page and choose it.' } });
    return null;
  }
  // a value the form flags (steps = 0, a size off the latent grid) never reaches the engine
  const factor = await readLatentFactor(modelId).catch(() => 8);
  const bad = Object.values(draftErrors({ ...draft, ...overrides }, generateRules(factor)));
  if (bad.length || anyFieldError('gen-')) {
    store.setState({ notice: `Not queued: ${bad[0] ?? 'a setting is out of range; the field says why.'}` });
    return null;
  }
  const seed = overrides.seed ?? (draft.seedLocked ? draft.seed : randomSeed());
  if (overrides.seed === undefined && !draft.seedLocked) store.getState().setDraft({ seed });
  const params: GenerateParams = {
    prompt: draft.prompt,
    negativePrompt: draft.negativePrompt,
    width: draft.width,
    height: draft.height,
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
  const id = nextJobId++;
  const scene = overrides.regions !== undefined;
  const label = (job.label ?? (params.prompt.trim() || (scene ? 'Scene' : 'Untitled'))).slice(0, 40);
  const images = Math.max(1, Math.min(16, Math.round(job.images ?? (draft.batchCount || 1))));
  useJobs.setState((s) => ({ jobs: enqueue(s.jobs, { id, kind: scene ? 'scene' : 'generate', label, steps: params.steps, images }) }));
  const result = new Promise<GenerateResult | null>((resolve) => runs.set(id, { modelId, hooks, params, draft: { ...draft }, images, ac: new AbortController(), resolve }));
  job.onQueued?.(id);
  pump();
  return result;
}

/** Starts the next queued job when none runs. */
function pump(): void {
  const next = nextToStart(useJobs.getState().jobs);
  const run = next && runs.get(next.id);
  if (!next || !run) return;
  useJobs.setState((s) => ({ jobs: start(s.jobs, next.id) }));
  void runJob(next.id, run).then((r) => {
    runs.delete(next.id);
    useJobs.setState((s) => ({ jobs: finish(s.jobs, next.id) }));
    run.resolve(r);
    pump();
  });
}

async function runJob(jobId: number, { modelId, hooks, params, draft, images: total, ac }: QueuedRun): Promise<GenerateResult | null> {
  const store = useGenerate;
  const t0 = performance.now();
  store.setState({ phase: 'loading', progress: null, step: 0, steps: params.steps, startedAt: t0, samplingStartedAt: 0, preview: null, error: null, batchIndex: 0, batchTotal: total, truncated: [] });
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
      let compiled = false; // kernels compiled in this image: its step time is not the adapter's usual one
      const result = await engine.generate(p, {
        signal: ac.signal,
        onProgress: (progress) => {
          if (progress.status === 'step') {
            useJobs.setState((s) => ({ jobs: jobProgress(s.jobs, jobId, { step: progress.step, steps: progress.steps, image: b + 1 }) }));
            store.setState({
              progress,
              step: progress.step,
              steps: progress.steps,
              samplingStartedAt: progress.step === 0 ? performance.now() : store.getState().samplingStartedAt,
              preview: progress.preview ?? store.getState().preview,
            });
          } else if (progress.status === 'compile') {
            compiled = true;
            store.setState({ progress });
          } else if (progress.status === 'encode') store.setState({ progress, truncated: progress.truncated ?? [] });
          else store.setState({ progress });
        },
      });
      last = result;
      store.setState({ result });
      // this adapter's step time at this size, for the next run's estimate (step-times.ts)
      const summary = useStudio.getState().summary;
      if (summary) void recordStepTime(stepTimeKey(adapterKey(summary), modelId, p.width, p.height), { steps: p.steps, stepsMs: result.timings.stepsMs, otherMs: result.timings.encodeMs + result.timings.decodeMs, compiled });
      await hooks.onResult?.(result);
    }
    store.setState({ phase: 'done', progress: { status: 'done' } });
    return last;
  } catch (err) {
    if (isAbort(err)) store.setState({ phase: 'cancelled', progress: null });
    else store.setState({ phase: 'error', error: serializeError(err), progress: null });
    return null;
  }
}
