/**
 * Runs an import: plan -> import.json -> quota check -> each file into `<path>.partial`, checked on
 * its own, renamed to `<path>` -> the whole model verified -> manifest.json written last, atomically.
 * Cancel (AbortSignal), a lost connection after the retries, or a full disk keep import.json and the
 * bytes written, so the same import resumes; a file or model that fails verification removes the whole
 * folder, so nothing half-checked is ever listed as a model.
 */
import { ModelFileError } from '../../model/errors';
import { isQuotaExceeded, ModelExistsError, ImportBusyError, StorageQuotaError } from '../errors';
import { MANIFEST_FILE, PARTIAL_SUFFIX, PENDING_FILE, validateManifest, validatePending } from './manifest';
import { baseName, fileHandle, fileSize, modelDir, modelsRoot, parentDir, readText, removePath, renameFile, writeFileAtomic } from './opfs';
import { planImport, type ImportPlan, type ImportRequest } from './plan';
import { etaSeconds, RateMeter, totals } from './progress';
import type { RetryPolicy } from './retry';
import { copyInto, downloadInto } from './transfer';
import type { FileProgress, ImportPhase, ImportProgress, ModelManifest, PendingImport } from './types';
import { verifyDiffusers, verifyFile, verifySingleFile, type OpenFile } from './verify';
import { openPartialWriter } from './writer';

export interface ImportOptions {
  signal?: AbortSignal;
  onProgress?(p: ImportProgress): void;
  fetch?: typeof fetch;
  retry?: RetryPolicy;
  /** Defaults to navigator.storage.estimate. */
  estimate?: () => Promise<StorageEstimate>;
  /** Least time between two progress reports while bytes flow (ms). */
  progressEveryMs?: number;
}

/** Serialises work on one model id across tabs and workers (Web Locks); without them, runs as is. */
export async function withModelLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return fn();
  return locks.request(`cidm-model-${id}`, { ifAvailable: true }, async (lock) => {
    if (!lock) throw new ImportBusyError(id);
    return fn();
  });
}

async function availableBytes(estimate: () => Promise<StorageEstimate>): Promise<number> {
  const e = await estimate();
  return Math.max(0, (e.quota ?? Infinity) - (e.usage ?? 0));
}

export async function importModel(req: ImportRequest, o: ImportOptions = {}): Promise<ModelManifest> {
  const report = progressReporter(o);
  report.phase('planning');
  const plan = await planImport(req, { fetch: o.fetch, signal: o.signal });
  return withModelLock(plan.id, () => runImport(plan, o, report));
}

async function runImport(plan: ImportPlan, o: ImportOptions, report: Reporter): Promise<ModelManifest> {
  const dir = (await modelDir(plan.id, true))!;
  const manifestText = await readText(dir, MANIFEST_FILE);
  if (manifestText !== null) {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(manifestText);
    } catch {
      /* a damaged manifest is replaced by this import */
    }
    if ('manifest' in validateManifest(parsed, plan.id)) throw new ModelExistsError(plan.id);
    await removePath(dir, MANIFEST_FILE);
  }
  const previous = await readPending(dir, plan.id);
  const pending: PendingImport = {
    version: 1,
    id: plan.id,
    name: plan.name,
    layout: plan.layout,
    source: plan.source,
    files: plan.files,
    createdAt: previous?.createdAt ?? new Date().toISOString(),
  };
  await writeFileAtomic(dir, PENDING_FILE, JSON.stringify(pending, null, 1));

  // Where each file stands: complete under its final name, partly in .partial, or not started.
  const progress: FileProgress[] = [];
  const complete = new Set<string>();
  for (const f of plan.files) {
    const final = await fileSize(dir, f.path);
    if (final !== null && (f.bytes === null || final === f.bytes)) {
      complete.add(f.path);
      progress.push({ path: f.path, bytesDone: final, bytesTotal: final });
    } else {
      if (final !== null) await removePath(dir, f.path);
      const part = (await fileSize(dir, f.path + PARTIAL_SUFFIX)) ?? 0;
      progress.push({ path: f.path, bytesDone: f.bytes === null ? part : Math.min(part, f.bytes), bytesTotal: f.bytes });
    }
  }
  report.start(plan, progress);

  report.phase('checking-space');
  const estimate = o.estimate ?? (() => navigator.storage.estimate());
  const remaining = () => progress.reduce((a, f) => a + Math.max(0, (f.bytesTotal ?? f.bytesDone) - f.bytesDone), 0);
  const available = await availableBytes(estimate);
  if (remaining() > available) throw new StorageQuotaError(remaining(), available);

  report.phase('transferring');
  for (let i = 0; i < plan.files.length; i++) {
    const f = plan.files[i]!;
    if (complete.has(f.path)) continue;
    o.signal?.throwIfAborted();
    const partialPath = f.path + PARTIAL_SUFFIX;
    const handle = (await fileHandle(dir, partialPath, true))!;
    const label = plan.label(f.path);
    const onBytes = (done: number) => report.bytes(i, done);
    const writer = await openPartialWriter(handle);
    try {
      const blob = plan.blobs.get(f.path);
      if (blob) await copyInto(blob, writer, { signal: o.signal, onBytes });
      else if (f.url) {
        await downloadInto(f.url, writer, f.bytes, label, {
          signal: o.signal,
          onBytes,
          fetch: o.fetch,
          headers: plan.headers,
          retry: o.retry,
          onRetry: (attempt, delayMs) => report.retry(f.path, attempt, delayMs),
        });
      } else throw new ModelFileError('io', label, 'the import has no source for this file');
    } catch (err) {
      if (isQuotaExceeded(err)) throw new StorageQuotaError(remaining(), await availableBytes(estimate).catch(() => 0), label);
      throw err;
    } finally {
      await writer.close().catch(() => undefined);
    }
    report.retry(null, 0, 0);
    const data = await handle.getFile();
    try {
      if (f.bytes !== null && data.size !== f.bytes) throw new ModelFileError('truncated', label, `the copy has ${data.size} bytes, the source ${f.bytes}`);
      await verifyFile(f.path, data, label);
    } catch (err) {
      await removeModelFolder(plan.id);
      throw err;
    }
    // Only a complete file that passed its own checks gets its final name.
    await renameFile((await parentDir(dir, f.path, false))!, baseName(partialPath), baseName(f.path));
  }

  report.phase('verifying');
  const open: OpenFile = async (path) => {
    const h = await fileHandle(dir, path);
    if (!h) throw new ModelFileError('missing-file', plan.label(path), 'the file is missing');
    return h.getFile();
  };
  let verified;
  try {
    verified = plan.layout === 'single-file'
      ? await verifySingleFile(open, plan.files[0]!.path, plan.label(plan.files[0]!.path), plan.files.map((f) => f.path))
      : await verifyDiffusers(open, plan.files.map((f) => f.path));
  } catch (err) {
    await removeModelFolder(plan.id);
    throw err;
  }
  const files = [];
  for (const f of plan.files) files.push({ path: f.path, bytes: (await fileSize(dir, f.path))! });
  const manifest: ModelManifest = {
    version: 1,
    id: plan.id,
    name: plan.name,
    kind: verified.kind,
    layout: plan.layout,
    source: plan.source,
    files,
    bytes: files.reduce((a, f) => a + f.bytes, 0),
    components: verified.components,
    needs: verified.needs,
    createdAt: new Date().toISOString(),
    verified: true,
  };
  await writeFileAtomic(dir, MANIFEST_FILE, JSON.stringify(manifest, null, 1));
  await removePath(dir, PENDING_FILE);
  report.phase('done');
  return manifest;
}

async function readPending(dir: FileSystemDirectoryHandle, id: string): Promise<PendingImport | null> {
  const text = await readText(dir, PENDING_FILE);
  try {
    return text === null ? null : validatePending(JSON.parse(text), id);
  } catch {
    return null;
  }
}

export async function removeModelFolder(id: string): Promise<void> {
  try {
    await (await modelsRoot()).removeEntry(id, { recursive: true });
  } catch (err) {
    if ((err as { name?: string }).name !== 'NotFoundError') throw err;
  }
}

interface Reporter {
  phase(p: ImportPhase): void;
  start(plan: ImportPlan, files: FileProgress[]): void;
  bytes(index: number, done: number): void;
  retry(file: string | null, attempt: number, delayMs: number): void;
}

/** Keeps the progress state and reports it, at most every `progressEveryMs` while bytes flow. */
function progressReporter(o: ImportOptions): Reporter {
  const every = o.progressEveryMs ?? 150;
  const meter = new RateMeter();
  const now = () => performance.now();
  let id = '';
  let name = '';
  let phase: ImportPhase = 'planning';
  let files: FileProgress[] = [];
  let current: string | null = null;
  let retry: ImportProgress['retry'] = null;
  let last = -Infinity;
  const emit = (force: boolean) => {
    const t = now();
    if (!o.onProgress || (!force && t - last < every)) return;
    last = t;
    const { bytesDone, bytesTotal } = totals(files);
    const rate = meter.rate(t);
    o.onProgress({ id, name, phase, files: files.slice(), currentFile: current, bytesDone, bytesTotal, rate, etaSeconds: etaSeconds(bytesTotal === null ? null : bytesTotal - bytesDone, rate), retry });
  };
  return {
    phase(p) {
      phase = p;
      if (p !== 'transferring') current = null;
      emit(true);
    },
    start(plan, f) {
      id = plan.id;
      name = plan.name;
      files = f;
      emit(true);
    },
    bytes(index, done) {
      const f = files[index]!;
      const delta = done - f.bytesDone;
      meter.add(delta, now());
      files[index] = { ...f, bytesDone: done, bytesTotal: f.bytesTotal ?? null };
      current = f.path;
      emit(false);
    },
    retry(file, attempt, delayMs) {
      retry = file === null ? null : { file, attempt, delayMs };
      emit(file !== null);
    },
  };
}
