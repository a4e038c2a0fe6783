/**
 * The import worker: runs importModel off the window thread, where OPFS offers
 * FileSystemSyncAccessHandle (in-place writes, so a closed tab keeps the bytes written so far).
 */
/// <reference lib="webworker" />
import { importModel } from './import';
import { toWireError, type FromImportWorker, type ToImportWorker } from './import-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const jobs = new Map<number, AbortController>();
const post = (m: FromImportWorker) => scope.postMessage(m);

scope.onmessage = (ev: MessageEvent<ToImportWorker>) => {
  const m = ev.data;
  if (m.type === 'cancel') {
    jobs.get(m.job)?.abort(new DOMException('The import was cancelled.', 'AbortError'));
    return;
  }
  const ac = new AbortController();
  jobs.set(m.job, ac);
  importModel(m.request, { signal: ac.signal, onProgress: (progress) => post({ type: 'progress', job: m.job, progress }) })
    .then((manifest) => post({ type: 'done', job: m.job, manifest }))
    .catch((err: unknown) => post({ type: 'error', job: m.job, error: toWireError(err) }))
    .finally(() => jobs.delete(m.job));
};
