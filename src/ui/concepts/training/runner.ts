/**
 * The training queue (issue 11 point 2): one job at a time on the engine worker, the others wait in
 * order. A run loads the job's model, resumes from the job's last checkpoint if it has one, trains with
 * progress, writes every 'checkpoint' event atomically (putCheckpoint), and at the end saves the concept
 * (finish.ts). Pause = cancel of the engine request (the engine writes a checkpoint first); Resume =
 * train again with that checkpoint; Cancel deletes the job and its checkpoints.
 *
 * A job stays 'queued' in IndexedDB while it runs, so after a reload or a crashed tab it starts again
 * by itself from its last checkpoint once the GPU and the model list are ready. A Web Lock makes one tab
 * the runner: a second tab of the studio waits for the first.
 */
import { serializeError } from '../../../gpu';
import { isAbort } from '../../../engine/errors';
import type { EngineProgress, TrainOldTask } from '../../../engine/protocol';
import { oldTaskOf } from '../../../engine/train-job';
import { deleteCheckpoints, latestCheckpoint, listCheckpointJobs, putCheckpoint } from '../../../storage/concepts/checkpoint-store';
import { nextOrder, nextRunnable, type JobPhoto, type JobSettings, type TrainingJobRecord } from '../../../storage/concepts/job-record';
import { deleteJob, listJobs, putJob } from '../../../storage/concepts/job-store';
import { getConcept, listConcepts, nextConceptTaskIndex } from '../../../storage/concepts/store';
import { onEngineDeviceLost, studioEngine } from '../../engine-service';
import { useGenerate } from '../../generate/generate-store';
import { useStudio } from '../../store';
import { useConcepts } from '../concepts-store';
import { finishLeftover, saveFinishedJob } from './finish';
import { fromStoredCheckpoint, toStoredCheckpoint, trainSpecOf, type StoredTrainCheckpoint } from './job-spec';
import { newLive, patchLive, useTraining } from './training-store';

type Intent = 'pause' | 'cancel' | 'write-failed' | 'device-lost' | null;
let running: { jobId: string; ac: AbortController; intent: Intent } | null = null;
let pumping = false;

/** Re-reads the jobs and their checkpoint steps. */
export async function refreshJobs(): Promise<void> {
  try {
    const [{ jobs, unreadable }, ckpts] = await Promise.all([listJobs(), listCheckpointJobs()]);
    const checkpoints = Object.fromEntries(ckpts.map((c) => [c.jobId, c.steps[c.steps.length - 1] ?? 0]));
    useTraining.setState({ jobs, unreadable, checkpoints, loaded: true });
  } catch (err) {
    useTraining.setState({ loaded: true, error: serializeError(err) });
  }
}

async function setState(job: TrainingJobRecord, patch: Partial<TrainingJobRecord>): Promise<void> {
  const { error: _drop, ...rest } = job;
  await putJob({ ...rest, ...patch });
}

/** Adds a job at the end of the queue and starts the queue. */
export async function enqueueJob(settings: JobSettings, photos: JobPhoto[], modelId: string): Promise<TrainingJobRecord> {
  await refreshJobs();
  const id = `concept-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const job = await putJob({ id, createdAt: Date.now(), order: nextOrder(useTraining.getState().jobs), modelId, state: 'queued', settings, photos });
  await refreshJobs();
  void pump();
  return job;
}

function ready(): boolean {
  const s = useStudio.getState();
  return s.gpuStatus === 'ready' && s.modelsLoaded;
}

/** Runs queued jobs one after another until none is left (or the GPU/model list is not ready yet). */
export async function pump(): Promise<void> {
  if (pumping || running || !ready()) return;
  pumping = true;
  try {
    for (;;) {
      await refreshJobs();
      const job = nextRunnable(useTraining.getState().jobs);
      if (!job || !ready()) return;
      await withRunnerLock(() => runJob(job));
    }
  } catch (err) {
    // the job store itself failed (quota, a blocked database): say so and stop; Retry or a reload starts again
    running = null;
    useTraining.setState({ live: null, error: serializeError(err) });
  } finally {
    pumping = false;
  }
}

async function withRunnerLock(fn: () => Promise<void>): Promise<void> {
  if (typeof navigator !== 'undefined' && navigator.locks) await navigator.locks.request('cidm-training-runner', fn);
  else await fn();
}

async function oldTasksFor(modelId: string, jobId: string): Promise<TrainOldTask[]> {
  const out: TrainOldTask[] = [];
  for (const s of (await listConcepts(modelId)).concepts) {
    if (s.id === jobId) continue;
    const c = await getConcept(s.id);
    if (c) out.push(oldTaskOf(c));
  }
  return out;
}

async function runJob(stored: TrainingJobRecord): Promise<void> {
  let job = stored;
  if (await finishLeftover(job)) {
    useConcepts.getState().refresh().catch(() => undefined);
    return;
  }
  const model = useStudio.getState().models.find((m) => m.id === job.modelId && m.state === 'verified');
  if (!model) {
    await setState(job, { state: 'failed', error: { name: 'ModelNotFoundError', code: 'model-missing', message: `The model "${job.modelId}" this job trains on is not on this device any more. Import it again and press Retry, or cancel the job.` } });
    return;
  }
  const ac = new AbortController();
  const me = { jobId: job.id, ac, intent: null as Intent };
  running = me;
  useTraining.setState({ live: newLive(job.id, job.settings.steps), notice: null });
  let writes: Promise<void> = Promise.resolve();
  let writeError: unknown = null;
  const save = (c: StoredTrainCheckpoint) => {
    writes = writes.then(() => putCheckpoint(c)).then(
      () => patchLive({ savedStep: c.step }),
      (err) => {
        // a checkpoint that cannot be written (quota): stop rather than train on without a way back
        writeError ??= err;
        me.intent = 'write-failed';
        ac.abort();
      },
    );
  };
  // the GPU lost mid-run: stop the request (its buffers are gone) and say so; Retry resumes from the last checkpoint
  let lostError: unknown = null;
  const unlisten = onEngineDeviceLost((e) => {
    lostError = Object.assign(new Error(`The GPU was lost during training (${e.message}).`), { name: e.name, code: e.code });
    me.intent = 'device-lost';
    ac.abort();
  });
  try {
    patchLive({ phase: 'loading' });
    const engine = studioEngine();
    await engine.load({ type: 'stored', id: job.modelId }, useGenerate.getState().draft.precision, {
      signal: ac.signal,
      onProgress: (p) => p.status === 'load' && patchLive({ loading: `${p.component} ${Math.round((100 * p.done) / Math.max(1, p.total))}%` }),
    });
    const stored = await latestCheckpoint<StoredTrainCheckpoint['trainer'], StoredTrainCheckpoint['config']>(job.id);
    const resume = stored ? fromStoredCheckpoint(stored) : undefined;
    let taskIndex = job.taskIndex;
    if (taskIndex === undefined) {
      taskIndex = await nextConceptTaskIndex(job.modelId);
      await setState(job, { taskIndex });
      job = { ...job, taskIndex };
      void refreshJobs(); // the card shows the task number
    }
    const spec = await trainSpecOf(job, { taskIndex, oldTasks: await oldTasksFor(job.modelId, job.id), ...(resume ? { resume } : {}) });
    patchLive({ phase: 'preparing', loading: null, resumedFrom: resume ? resume.step : null, step: resume?.step ?? 0, losses: resume ? resume.losses.slice(0, resume.step) : [] });
    if (resume) useTraining.setState({ notice: { kind: 'info', text: `Resumed "${job.settings.name}" from its checkpoint at step ${resume.step}.` } });
    const onProgress = (p: EngineProgress) => {
      if (p.status === 'train') {
        const live = useTraining.getState().live;
        patchLive({ phase: 'training', step: p.step, steps: p.steps, lr: p.lr, itPerSec: p.itPerSec, etaMs: p.etaMs, tokensFrozen: p.tokensFrozen, losses: [...(live?.losses ?? []).slice(0, p.step - 1), p.loss] });
      } else if (p.status === 'checkpoint') save(toStoredCheckpoint(p.checkpoint));
      else if (p.status === 'train-preview') patchLive({ preview: { step: p.step, image: p.image } });
    };
    const result = await engine.train(spec, { signal: ac.signal, onProgress });
    patchLive({ phase: 'saving' });
    await writes;
    const preview = useTraining.getState().live?.preview?.image ?? null;
    await saveFinishedJob(job, result, preview);
    useTraining.setState({ live: null, notice: { kind: 'ok', text: `"${job.settings.name}" is learned and saved in your library (task ${taskIndex}). Use ${job.settings.placeholders.join(' ')} ${job.settings.classWord} in a prompt.` } });
    await useConcepts.getState().refresh().catch(() => undefined);
  } catch (err) {
    await writes;
    const live = useTraining.getState().live;
    const kept = live?.savedStep ?? live?.resumedFrom ?? null;
    if (isAbort(err) && me.intent === 'cancel') {
      await deleteCheckpoints(job.id);
      await deleteJob(job.id);
      useTraining.setState({ live: null, notice: { kind: 'info', text: `Training of "${job.settings.name}" was cancelled and its checkpoints deleted.` } });
    } else if (isAbort(err) && me.intent === 'pause') {
      await setState(job, { state: 'paused' });
      useTraining.setState({ live: null, notice: { kind: 'info', text: `"${job.settings.name}" is paused${kept ? ` at step ${kept} (checkpoint saved)` : ''}. Resume continues from there.` } });
    } else {
      const e = serializeError(writeError ?? lostError ?? err);
      const at = kept ? ` Its last checkpoint (step ${kept}) is kept: Retry continues from there.` : ' Retry starts it again.';
      await setState(job, { state: 'failed', error: { ...e, message: `${e.message}${at}` } });
      useTraining.setState({ live: null });
    }
  } finally {
    unlisten();
    running = null;
    await refreshJobs();
  }
}

export function isRunning(jobId: string): boolean {
  return running?.jobId === jobId;
}

/** Pause: a running job stops after its current step with a checkpoint; a queued one just waits. */
export async function pauseJob(job: TrainingJobRecord): Promise<void> {
  if (running?.jobId === job.id) {
    running.intent = 'pause';
    running.ac.abort();
    return;
  }
  await setState(job, { state: 'paused' });
  await refreshJobs();
}

/** Resume a paused job or retry a failed one: back in the queue at its place. */
export async function resumeJob(job: TrainingJobRecord): Promise<void> {
  await setState(job, { state: 'queued' });
  await refreshJobs();
  void pump();
}

/** Deletes the job and its checkpoints (a running one stops first). */
export async function cancelJob(job: TrainingJobRecord): Promise<void> {
  if (running?.jobId === job.id) {
    running.intent = 'cancel';
    running.ac.abort();
    return;
  }
  await deleteCheckpoints(job.id);
  await deleteJob(job.id);
  await refreshJobs();
}

let started = false;

/** Reads the queue once and runs it whenever the GPU and the model list become ready (a reload resumes). */
export function initTraining(): void {
  if (started) return;
  started = true;
  void refreshJobs().then(pump);
  useStudio.subscribe((s, prev) => {
    if ((s.gpuStatus !== prev.gpuStatus || s.modelsLoaded !== prev.modelsLoaded || s.models !== prev.models) && ready()) void pump();
  });
}
