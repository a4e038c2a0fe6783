/**
 * Starts imports in the import worker (one per page, created on first use or by warmImportWorker),
 * and falls back to this thread where a module worker cannot be made (then writes go through
 * createWritable, see writer.ts).
 */
import { importModel } from './import';
import { ImportFailure, toWireError, type FromImportWorker, type ToImportWorker } from './import-protocol';
import type { ImportRequest } from './plan';
import type { ImportProgress, ModelManifest } from './types';

export interface ImportJob {
  readonly job: number;
  readonly done: Promise<ModelManifest>;
  cancel(): void;
}

interface Waiter {
  onProgress(p: ImportProgress): void;
  resolve(m: ModelManifest): void;
  reject(e: Error): void;
}

let worker: Worker | null | undefined;
const waiters = new Map<number, Waiter>();
let nextJob = 1;

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./import-worker.ts', import.meta.url), { type: 'module', name: 'cidm-import' });
  } catch {
    worker = null;
    return worker;
  }
  worker.onmessage = (ev: MessageEvent<FromImportWorker>) => {
    const m = ev.data;
    const w = waiters.get(m.job);
    if (!w) return;
    if (m.type === 'progress') w.onProgress(m.progress);
    else {
      waiters.delete(m.job);
      if (m.type === 'done') w.resolve(m.manifest);
      else w.reject(new ImportFailure(m.error));
    }
  };
  worker.onerror = (ev) => {
    // The worker script failed (or crashed): fail every running job, start a new worker next time.
    ev.preventDefault();
    for (const w of waiters.values()) w.reject(new ImportFailure({ name: 'Error', code: 'worker-failed', message: `The import worker stopped (${ev.message || 'no reason given'}). Try again.` }));
    waiters.clear();
    worker?.terminate();
    worker = undefined;
  };
  return worker;
}

/** Creates the worker now, so the first import does not wait for it to load. */
export function warmImportWorker(): void {
  getWorker();
}

export function startImport(request: ImportRequest, onProgress: (p: ImportProgress) => void): ImportJob {
  const job = nextJob++;
  const w = getWorker();
  if (!w) return startInThread(job, request, onProgress);
  const done = new Promise<ModelManifest>((resolve, reject) => waiters.set(job, { onProgress, resolve, reject }));
  w.postMessage({ type: 'start', job, request } satisfies ToImportWorker);
  return { job, done, cancel: () => w.postMessage({ type: 'cancel', job } satisfies ToImportWorker) };
}

function startInThread(job: number, request: ImportRequest, onProgress: (p: ImportProgress) => void): ImportJob {
  const ac = new AbortController();
  // Started on a microtask, so no progress callback runs before startImport has returned (as with the worker).
  const done = Promise.resolve().then(() => importModel(request, { signal: ac.signal, onProgress })).catch((err: unknown) => {
    throw new ImportFailure(toWireError(err));
  });
  return { job, done, cancel: () => ac.abort(new DOMException('The import was cancelled.', 'AbortError')) };
}
