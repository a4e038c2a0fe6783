/**
 * The page's side of the engine: StudioEngine over a Web Worker. Each call is a numbered request;
 * progress events go to that call's onProgress; aborting its signal sends a cancel; errors come back
 * as {name, code, message} and are revived (errors.ts).
 */
import type { SerializedError } from '../gpu';
import type { CallOptions, StudioEngine } from './engine';
import { reviveError } from './errors';
import type { EngineEvent, EngineRequest, EngineResults, EngineStatus, GenerateParams, GenerateResult, LoadedModelInfo, Precision, StoredModelRef } from './protocol';
import type { ForgettingJobSpec, ForgettingResult, TrainJobSpec, TrainResult } from './protocol';
import type { Concept } from '../cidm/concepts/concept';
import type { TuningSummary } from './autotune';

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: CallOptions['onProgress'];
}

type RequestBody = EngineRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class WorkerEngine implements StudioEngine {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly lostListeners = new Set<(e: SerializedError) => void>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<EngineEvent>) => this.receive(ev.data);
    worker.onerror = (ev) => {
      // a worker that fails to start (script error) fails every pending call
      const err = new Error(`The engine worker failed: ${ev.message || 'script error'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  /** The studio's engine worker (Vite bundles worker.ts as its own module chunk). */
  static start(): WorkerEngine {
    return new WorkerEngine(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'cidm-engine' }));
  }

  private receive(e: EngineEvent): void {
    if (e.kind === 'device-lost') {
      for (const l of this.lostListeners) l(e.error);
      return;
    }
    const p = this.pending.get(e.id);
    if (!p) return;
    if (e.kind === 'progress') p.onProgress?.(e.progress);
    else {
      this.pending.delete(e.id);
      if (e.kind === 'result') p.resolve(e.value);
      else p.reject(reviveError(e.error));
    }
  }

  private call<K extends keyof EngineResults>(body: RequestBody & { kind: K }, o: CallOptions = {}): Promise<EngineResults[K]> {
    const id = this.nextId++;
    return new Promise<EngineResults[K]>((resolve, reject) => {
      if (o.signal?.aborted) {
        reject(new DOMException('Cancelled', 'AbortError'));
        return;
      }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: o.onProgress });
      o.signal?.addEventListener('abort', () => this.worker.postMessage({ kind: 'cancel', id: this.nextId++, target: id } satisfies EngineRequest), { once: true });
      this.worker.postMessage({ ...body, id } as EngineRequest);
    });
  }

  status(): Promise<EngineStatus> {
    return this.call({ kind: 'status' });
  }
  load(model: StoredModelRef, precision: Precision, o?: CallOptions): Promise<LoadedModelInfo> {
    return this.call({ kind: 'load', model, precision }, o);
  }
  generate(params: GenerateParams, o?: CallOptions): Promise<GenerateResult> {
    return this.call({ kind: 'generate', params }, o);
  }
  unload(): Promise<null> {
    return this.call({ kind: 'unload' });
  }
  train(spec: TrainJobSpec, o?: CallOptions): Promise<TrainResult> {
    return this.call({ kind: 'train', spec }, o);
  }
  setConcepts(concepts: Concept[]): Promise<{ count: number }> {
    return this.call({ kind: 'concepts', concepts });
  }
  forgetting(spec: ForgettingJobSpec, o?: CallOptions): Promise<ForgettingResult> {
    return this.call({ kind: 'forgetting', spec }, o);
  }
  retune(o?: CallOptions): Promise<TuningSummary | null> {
    return this.call({ kind: 'retune' }, o);
  }
  onDeviceLost(listener: (e: SerializedError) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }
  dispose(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new DOMException('The engine was stopped', 'AbortError'));
    this.pending.clear();
  }
}
