/**
 * The training queue's behaviour with the stores and the engine replaced by in-memory fakes: order and
 * one-at-a-time, every checkpoint event written, the concept saved at the end with the task index and
 * the earlier tasks, resume from the stored checkpoint, pause, and the failures a browser cannot stage in
 * an e2e (a checkpoint refused for quota, the GPU lost mid-run): each stops the job with a clear message
 * that Retry continues from the last checkpoint.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineProgress, TrainCheckpoint, TrainJobSpec, TrainResult } from '../../../engine/protocol';
import { encodeJobRecord, type TrainingJobRecord } from '../../../storage/concepts/job-record';
import { StorageQuotaError } from '../../../storage/errors';
import { encodePng } from '../../../storage/png/png';
import type { StoredTrainCheckpoint } from './job-spec';

const h = vi.hoisted(() => ({
  jobs: new Map<string, unknown>(),
  checkpoints: [] as { jobId: string; step: number }[],
  stored: undefined as unknown,
  putCheckpointError: null as Error | null,
  saved: [] as { id: string; preview: unknown; taskIndex: number }[],
  lost: new Set<(e: { name: string; code: string; message: string }) => void>(),
  engine: null as null | { train(spec: unknown, o: { signal?: AbortSignal; onProgress?(p: unknown): void }): Promise<unknown> },
  specs: [] as unknown[],
  concurrent: 0,
  maxConcurrent: 0,
}));

vi.mock('../../../storage/concepts/job-store', () => ({
  putJob: async (j: Record<string, unknown>) => {
    const r = { v: 1, ...j };
    h.jobs.set(j.id as string, r);
    return r;
  },
  listJobs: async () => ({ jobs: [...h.jobs.values()].sort((a: any, b: any) => a.order - b.order), unreadable: [] }),
  deleteJob: async (id: string) => void h.jobs.delete(id),
}));
vi.mock('../../../storage/concepts/checkpoint-store', () => ({
  putCheckpoint: async (c: { jobId: string; step: number }) => {
    if (h.putCheckpointError) throw h.putCheckpointError;
    h.checkpoints.push({ jobId: c.jobId, step: c.step });
  },
  latestCheckpoint: async () => h.stored,
  deleteCheckpoints: async (id: string) => void (h.checkpoints = h.checkpoints.filter((c) => c.jobId !== id)),
  listCheckpointJobs: async () => [],
}));
vi.mock('../../../storage/concepts/store', () => ({
  nextConceptTaskIndex: async () => 3,
  listConcepts: async () => ({ concepts: [{ id: 'old-1' }, { id: 'old-2' }], unreadable: [] }),
  getConcept: async (id: string) => ({ id, lora: new Map([[`${id}.attn2.to_k`, { up: new Float32Array([1]), down: new Float32Array([1]) }]]) }),
}));
vi.mock('./finish', () => ({
  finishLeftover: async () => false,
  saveFinishedJob: async (job: { id: string; taskIndex: number }, _r: unknown, preview: unknown) => {
    h.saved.push({ id: job.id, preview, taskIndex: job.taskIndex });
    h.jobs.delete(job.id); // as finish.ts: the concept is put, then the job deleted
  },
}));
vi.mock('../../engine-service', () => ({
  studioEngine: () => ({ load: async () => ({}), train: (spec: unknown, o: never) => h.engine!.train(spec, o) }),
  onEngineDeviceLost: (l: never) => (h.lost.add(l), () => h.lost.delete(l)),
}));
vi.mock('../../generate/generate-store', () => ({ useGenerate: { getState: () => ({ draft: { precision: 'auto' } }) } }));
vi.mock('../concepts-store', () => ({ useConcepts: { getState: () => ({ refresh: async () => undefined }) } }));

const { pauseJob, pump } = await import('./runner');
const { useTraining } = await import('./training-store');
const { useStudio } = await import('../../store');

const SIZE = 8;
const png = async () => (await encodePng(new Uint8ClampedArray(SIZE * SIZE * 4).fill(200), SIZE, SIZE)).slice().buffer as ArrayBuffer;
async function addJob(id: string, order: number): Promise<void> {
  const p = await png();
  h.jobs.set(id, encodeJobRecord({
    id, createdAt: order, order, modelId: 'm', state: 'queued', photos: [{ name: 'a.png', png: p, mask: null }],
    settings: { name: id, classWord: 'toy', placeholders: [`<${id}>`], captionTemplate: 'object', resolution: SIZE, steps: 4, rank: 4, lrLora: 1e-4, lrTokens: 1e-3, seed: 1, masked: false, checkpointEvery: 2, previewEvery: 2 },
  }));
}

const flat = () => ({ param: new Float32Array(2), expAvg: new Float32Array(2), expAvgSq: new Float32Array(2) });
const ckpt = (jobId: string, step: number): TrainCheckpoint => ({ jobId, step, steps: 4, trainer: { step, tokensFrozen: false, tokensFrozenAt: null, adamSteps: {} }, lora: flat(), tokens: flat(), losses: Array.from({ length: step }, (_, i) => 1 - i / 10) });
const abortError = () => new DOMException('Cancelled', 'AbortError');

/** An engine that runs `spec.steps` steps, a checkpoint every checkpointEvery, a preview every previewEvery; `hold` waits at that step until aborted. */
function fakeEngine(o: { hold?: number; onHold?(): void } = {}) {
  return {
    async train(s: unknown, c: { signal?: AbortSignal; onProgress?(p: EngineProgress): void }): Promise<TrainResult> {
      const spec = s as TrainJobSpec;
      h.specs.push(spec);
      h.maxConcurrent = Math.max(h.maxConcurrent, ++h.concurrent);
      try {
        for (let step = (spec.resume?.step ?? 0) + 1; step <= spec.steps!; step++) {
          await new Promise((r) => setTimeout(r, 1));
          c.onProgress?.({ status: 'train', step, steps: spec.steps!, loss: 1 / step, lr: 1e-4, itPerSec: 2, etaMs: 10, tokensFrozen: false });
          if (step % spec.checkpointEvery! === 0) c.onProgress?.({ status: 'checkpoint', step, checkpoint: ckpt(spec.jobId, step) });
          if (step % spec.previewEvery! === 0) c.onProgress?.({ status: 'train-preview', step, image: { width: 1, height: 1, rgba: new Uint8ClampedArray([step, 0, 0, 255]) } });
          if (step === o.hold) {
            o.onHold?.();
            await new Promise((_, rej) => (c.signal!.aborted ? rej(abortError()) : c.signal!.addEventListener('abort', () => rej(abortError()))));
          }
        }
        return { concept: { id: spec.jobId } as never, losses: [], stepsRun: spec.steps!, timings: { prepareMs: 0, trainMs: 0 } };
      } catch (err) {
        if (c.signal?.aborted) c.onProgress?.({ status: 'checkpoint', step: o.hold!, checkpoint: ckpt(spec.jobId, o.hold!) });
        throw err;
      } finally {
        h.concurrent--;
      }
    },
  };
}

const job = (id: string) => h.jobs.get(id) as TrainingJobRecord | undefined;

beforeEach(() => {
  h.jobs.clear();
  h.checkpoints = [];
  h.stored = undefined;
  h.putCheckpointError = null;
  h.saved = [];
  h.specs = [];
  h.concurrent = 0;
  h.maxConcurrent = 0;
  h.lost.clear();
  useTraining.setState({ jobs: [], live: null, notice: null, error: null });
  useStudio.setState({ gpuStatus: 'ready', modelsLoaded: true, models: [{ id: 'm', state: 'verified' } as never] });
});

describe('the training queue', () => {
  it('runs queued jobs in order, one at a time, writes every checkpoint and saves each concept with its task and the earlier tasks', async () => {
    await addJob('b', 2);
    await addJob('a', 1);
    h.engine = fakeEngine();
    await pump();
    expect(h.specs.map((s) => (s as TrainJobSpec).jobId)).toEqual(['a', 'b']);
    expect(h.maxConcurrent).toBe(1);
    expect(h.checkpoints).toEqual([{ jobId: 'a', step: 2 }, { jobId: 'a', step: 4 }, { jobId: 'b', step: 2 }, { jobId: 'b', step: 4 }]);
    expect(h.saved.map((s) => [s.id, s.taskIndex])).toEqual([['a', 3], ['b', 3]]);
    expect((h.saved[0]!.preview as { rgba: Uint8ClampedArray }).rgba[0]).toBe(4); // the last preview
    const spec = h.specs[0] as TrainJobSpec;
    expect(spec.oldTasks!.map((t) => [...t.keys()])).toEqual([['old-1.attn2.to_k'], ['old-2.attn2.to_k']]);
    expect(spec.resume).toBeUndefined();
    expect(useTraining.getState().notice?.text).toMatch(/saved in your library \(task 3\)/);
    expect(useTraining.getState().live).toBeNull();
  });

  it('resumes from the stored checkpoint and says so', async () => {
    await addJob('a', 1);
    const c = ckpt('a', 2);
    h.stored = { jobId: 'a', step: 2, createdAt: 0, groups: { lora: c.lora, tokens: c.tokens }, trainer: c.trainer, config: { steps: 4, losses: c.losses } } satisfies StoredTrainCheckpoint;
    let resumedFrom: number | null = null;
    h.engine = fakeEngine({ hold: 3, onHold: () => {
      resumedFrom = useTraining.getState().live!.resumedFrom;
      void pauseJob(job('a')!);
    } });
    await pump();
    expect((h.specs[0] as TrainJobSpec).resume?.step).toBe(2);
    expect(resumedFrom).toBe(2);
    expect(job('a')!.state).toBe('paused');
    expect(job('a')!.taskIndex).toBe(3); // kept for the next resume
    expect(h.checkpoints.map((k) => k.step)).toEqual([3]); // the pause's checkpoint
    expect(useTraining.getState().notice?.text).toMatch(/paused at step 3/);
  });

  it('a checkpoint refused for quota stops the job with the quota message', async () => {
    await addJob('a', 1);
    h.putCheckpointError = new StorageQuotaError(10_000_000, 1000, 'training checkpoint');
    h.engine = fakeEngine({ hold: 2 });
    await pump();
    expect(job('a')!.state).toBe('failed');
    expect(job('a')!.error?.name).toBe('StorageQuotaError');
    expect(h.saved).toEqual([]);
  });

  it('a GPU lost mid-run stops the job; Retry is offered from the last checkpoint', async () => {
    await addJob('a', 1);
    h.engine = fakeEngine({ hold: 3, onHold: () => setTimeout(() => h.lost.forEach((l) => l({ name: 'DeviceLostError', code: 'device-lost', message: 'the GPU was reset' })), 5) });
    await pump();
    const j = job('a')!;
    expect(j.state).toBe('failed');
    expect(j.error?.message).toMatch(/The GPU was lost during training \(the GPU was reset\)\. Its last checkpoint \(step 3\) is kept: Retry continues from there\./);
    expect(h.lost.size).toBe(0); // the listener is removed after the run
  });

  it('waits until the GPU and the model list are ready', async () => {
    await addJob('a', 1);
    h.engine = fakeEngine();
    useStudio.setState({ modelsLoaded: false });
    await pump();
    expect(h.specs).toEqual([]);
    useStudio.setState({ modelsLoaded: true });
    await pump();
    expect(h.saved.map((s) => s.id)).toEqual(['a']);
  });
});
