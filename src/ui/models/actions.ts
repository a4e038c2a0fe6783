/**
 * What the Models page does: imports (in the import worker, see src/storage/models/import-client.ts),
 * cancel and resume, the list, Use and Delete, and the persisted hub address. The store slice holds
 * the plain data; the running jobs' handles stay here.
 */
import { getSetting, setSetting } from '../../storage/settings';
import { startImport, warmImportWorker, type ImportJob } from '../../storage/models/import-client';
import { DEFAULT_HUB, normalizeHub, parseModelRef } from '../../storage/models/hub';
import type { FolderFile, ImportRequest } from '../../storage/models/plan';
import { deleteModel, getActiveModelId, listModels, setActiveModelId, storageInfo } from '../../storage/models/store';
import { useStudio } from '../store';
import { describeImportError } from './messages';
import type { ImportError, ImportRow } from './models-slice';
import { reasonOf } from '../plain-error';

const HUB_KEY = 'hubUrl';
const jobs = new Map<number, ImportJob>();
/** An access token for gated repos: kept in memory only, never written to storage. */
let token = '';

export function setAccessToken(value: string): void {
  token = value.trim();
}

export async function refreshModels(): Promise<void> {
  const st = useStudio.getState();
  try {
    const [models, active, storage] = await Promise.all([listModels(), getActiveModelId(), storageInfo().catch(() => null)]);
    st.setModels(models);
    // An active id whose model is gone (deleted in another tab) is cleared.
    const usable = active !== null && models.some((m) => m.id === active && m.state === 'verified');
    st.setActiveModelId(usable ? active : null);
    if (active !== null && !usable) await setActiveModelId(null);
    st.setStorage(storage);
  } catch (err) {
    st.setModelsError(describeImportError(err).message);
  }
}

/** Loads the saved hub address and the list; starts the import worker so the first import is quick. */
export async function initModels(): Promise<void> {
  warmImportWorker();
  const hub = await getSetting<string>(HUB_KEY).catch(() => undefined);
  if (hub) useStudio.getState().setHubUrl(hub);
  await refreshModels();
}

/** Saves the hub address; returns an error message when it is not a URL. */
export async function setHubUrl(url: string): Promise<string | null> {
  let hub: string;
  try {
    hub = normalizeHub(url || DEFAULT_HUB);
  } catch (err) {
    return (err as Error).message;
  }
  useStudio.getState().setHubUrl(hub);
  await setSetting(HUB_KEY, hub === DEFAULT_HUB ? undefined : hub);
  return null;
}

const isOffline = () => typeof navigator !== 'undefined' && navigator.onLine === false;

const NEEDS_NETWORK = { hub: 'importing from Hugging Face', url: 'importing from a URL', resume: 'resuming a download' } as const;

/** What starting an import that needs the network says while the browser is offline (nothing is created). */
export function offlineMessage(what: keyof typeof NEEDS_NETWORK): string {
  return `You are offline: ${NEEDS_NETWORK[what]} needs the network. Files from this computer can still be imported.`;
}

/**
 * A download that failed while the browser is offline, in words: before any file was planned nothing
 * was stored; later, the bytes copied so far are kept for Resume.
 */
function offlineError(request: ImportRequest, started: boolean): ImportError {
  const from = request.type === 'url' ? 'url' : request.type === 'resume' ? 'resume' : 'hub';
  return {
    code: 'offline',
    title: 'You are offline',
    message: started ? 'You are offline, so the download stopped. The bytes copied so far are kept: Resume it in the list below when you are back online.' : offlineMessage(from),
    file: null,
  };
}

function run(request: ImportRequest, label: string, resumable: ImportRow['resumable']): number {
  const st = useStudio.getState();
  // Gigabytes of weights should not be evicted under storage pressure; Chromium grants this without a
  // prompt for sites a person uses (and the answer does not change what the import does).
  void navigator.storage?.persist?.().catch(() => false);
  const job = startImport(request, (progress) => useStudio.getState().upsertImport(job.job, { progress, modelId: progress.id || null }));
  jobs.set(job.job, job);
  st.upsertImport(job.job, { label, state: 'running', resumable });
  void refreshModels();
  job.done.then(
    async (manifest) => {
      jobs.delete(job.job);
      useStudio.getState().upsertImport(job.job, { state: 'done', modelId: manifest.id });
      if (useStudio.getState().activeModelId === null) await setActiveModelId(manifest.id).catch(() => undefined);
      await refreshModels();
    },
    async (err: unknown) => {
      jobs.delete(job.job);
      const described = describeImportError(err);
      const row = useStudio.getState().imports.find((r) => r.job === job.job);
      const network = request.type === 'repo' || request.type === 'url' || request.type === 'resume';
      // A network failure while the browser is offline says so, instead of the fetch's own words.
      const error = network && described.code === 'io' && isOffline() ? offlineError(request, Boolean(row?.modelId)) : described;
      useStudio.getState().upsertImport(job.job, { state: error.code === 'cancelled' ? 'cancelled' : 'failed', error });
      await refreshModels();
    },
  );
  return job.job;
}

/** Imports what the person typed: a repo id (on the hub from Advanced) or a .safetensors URL. */
export function importFromText(text: string): { job: number } | { error: string } {
  const hub = useStudio.getState().hubUrl;
  try {
    const ref = parseModelRef(text, hub);
    // Checked before anything starts, so no half import is left behind.
    if (isOffline()) return { error: offlineMessage(ref.type === 'repo' ? 'hub' : 'url') };
    const t = token || undefined;
    if (ref.type === 'repo') return { job: run({ type: 'repo', repo: ref.repo, revision: ref.revision, hub, token: t }, ref.repo, 'auto') };
    return { job: run({ type: 'url', url: ref.url, token: t }, ref.url, 'auto') };
  } catch (err) {
    return { error: reasonOf(err) };
  }
}

export function importFile(file: File): number {
  return run({ type: 'file', file }, file.name, 'pick-again');
}

export function importFolder(name: string, files: readonly FolderFile[]): number {
  return run({ type: 'folder', name, files }, name, 'pick-again');
}

/** Continues an unfinished URL import from the bytes already stored (refused while offline). */
export function resumeImport(id: string, label: string): { job: number } | { error: string } {
  if (isOffline()) return { error: offlineMessage('resume') };
  return { job: run({ type: 'resume', id, token: token || undefined }, label, 'auto') };
}

export function cancelImport(job: number): void {
  jobs.get(job)?.cancel();
}

/** True while this tab runs an import of model `id`. */
export function isImporting(rows: readonly ImportRow[], id: string): boolean {
  return rows.some((r) => r.state === 'running' && r.modelId === id);
}

export async function removeModel(id: string): Promise<string | null> {
  try {
    await deleteModel(id);
    return null;
  } catch (err) {
    return describeImportError(err).message;
  } finally {
    await refreshModels();
  }
}

export async function useModel(id: string): Promise<void> {
  await setActiveModelId(id);
  useStudio.getState().setActiveModelId(id);
}
