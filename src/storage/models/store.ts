/**
 * The model registry over OPFS: what is stored (verified models and unfinished imports), the files of a
 * verified model as File objects for the loaders, deletion, storage use, and the active model.
 * Window or worker alike (no DOM).
 */
import { ModelFileError } from '../../model/errors';
import type { ModelFiles } from '../../model/model-files';
import { BlobSource, type ByteSource } from '../../model/safetensors/source';
import { getSetting, setSetting } from '../settings';
import { ModelNotFoundError } from '../errors';
import { removeModelFolder, withModelLock } from './import';
import { MANIFEST_FILE, PENDING_FILE, isModelId, validateManifest, validatePending } from './manifest';
import { entries, fileHandle, listFiles, modelDir, modelsRoot, readText } from './opfs';
import type { ModelEntry, ModelKind, ModelManifest } from './types';

function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function entryFor(id: string, dir: FileSystemDirectoryHandle): Promise<ModelEntry> {
  const files = await listFiles(dir);
  const bytesOnDisk = files.reduce((a, [, n]) => a + n, 0);
  const manifestJson = parse(await readText(dir, MANIFEST_FILE));
  const checked = manifestJson === null ? null : validateManifest(manifestJson, id);
  if (checked && 'manifest' in checked) {
    const m = checked.manifest;
    return { id, name: m.name, state: 'verified', kind: m.kind, layout: m.layout, source: m.source, bytesOnDisk, bytesTotal: m.bytes, manifest: m, pending: null, problem: null };
  }
  const pendingJson = parse(await readText(dir, PENDING_FILE));
  const pending = pendingJson ? validatePending(pendingJson, id) : null;
  const planned = pending?.files.every((f) => f.bytes !== null) ? pending.files.reduce((a, f) => a + f.bytes!, 0) : null;
  const problem = checked && 'problem' in checked ? checked.problem : pending ? null : 'the folder has neither a manifest nor an import plan';
  return {
    id,
    name: pending?.name ?? id,
    state: 'incomplete',
    kind: null,
    layout: pending?.layout ?? null,
    source: pending?.source ?? null,
    bytesOnDisk,
    bytesTotal: planned,
    manifest: null,
    pending,
    problem,
  };
}

/** Every model folder: verified models and unfinished imports, by name. */
export async function listModels(): Promise<ModelEntry[]> {
  const root = await modelsRoot();
  const out: ModelEntry[] = [];
  for await (const [id, h] of entries(root)) {
    if (h.kind !== 'directory' || !isModelId(id)) continue;
    out.push(await entryFor(id, h as FileSystemDirectoryHandle));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** The verified manifest, or ModelNotFoundError (an unfinished import is never used). */
export async function getModel(id: string): Promise<ModelManifest> {
  const dir = isModelId(id) ? await modelDir(id, false) : null;
  const json = dir ? parse(await readText(dir, MANIFEST_FILE)) : null;
  const checked = json ? validateManifest(json, id) : null;
  if (!checked || !('manifest' in checked)) throw new ModelNotFoundError(id);
  return checked.manifest;
}

/**
 * A file of a verified model, as a disk-backed File (read it with SafetensorsFile.open(new
 * BlobSource(file)); Blob.slice does not load it). `path` is one of the manifest's paths.
 */
export async function openModelFile(id: string, path: string): Promise<File> {
  const m = await getModel(id);
  const entry = m.files.find((f) => f.path === path);
  if (!entry) throw new ModelNotFoundError(id, `has no file ${path}`);
  const h = await fileHandle((await modelDir(id, false))!, path);
  const file = h ? await h.getFile() : null;
  if (!file || file.size !== entry.bytes) throw new ModelNotFoundError(id, `has lost or changed its file ${path}; delete it and import it again`);
  return file;
}

/**
 * For a model that lacks a component (a single-file checkpoint has no tokenizer files): a verified
 * diffusers model of the same kind that has `path`, or null. Nothing is made up in its place.
 */
export async function findProvider(kind: ModelKind, path: string): Promise<string | null> {
  for (const e of await listModels()) {
    const m = e.manifest;
    if (m && m.kind === kind && m.layout === 'diffusers' && m.files.some((f) => f.path === path)) return m.id;
  }
  return null;
}

/**
 * A verified model as the loaders' ModelFiles (src/model/model-files.ts): its manifest's files, and for
 * each path a `need` names (a single-file checkpoint's tokenizer files) that path from the verified
 * diffusers model findProvider picks. A need without a provider is a `missing-file` error that says
 * what to import; nothing is substituted.
 */
export async function modelFiles(id: string): Promise<ModelFiles> {
  const m = await getModel(id);
  const own = new Set(m.files.map((f) => f.path));
  const needed = new Map(m.needs.flatMap((n) => n.files.map((f) => [f, n] as const)));
  const providers = new Map<string, string | null>();
  const locate = async (path: string): Promise<{ id: string; path: string }> => {
    if (own.has(path)) return { id, path };
    const need = needed.get(path);
    if (!need) throw new ModelFileError('missing-file', `${m.name}/${path}`, 'the model has no such file');
    if (!providers.has(path)) providers.set(path, await findProvider(m.kind, path));
    const from = providers.get(path);
    if (!from) throw new ModelFileError('missing-file', `${m.name}/${path}`, `this ${m.layout} model does not carry ${need.component}; it is taken from ${need.from}, and there is none`);
    return { id: from, path };
  };
  return {
    label: m.name,
    async exists(path) {
      return locate(path).then(() => true, () => false);
    },
    async source(path): Promise<ByteSource> {
      const at = await locate(path);
      return new BlobSource(await openModelFile(at.id, at.path), `${m.name}/${path}`);
    },
    async text(path) {
      const at = await locate(path);
      return (await openModelFile(at.id, at.path)).text();
    },
  };
}

/** Deletes a model or an unfinished import (refused while it is being imported). */
export async function deleteModel(id: string): Promise<void> {
  if (!isModelId(id)) throw new ModelNotFoundError(id);
  await withModelLock(id, () => removeModelFolder(id));
  if ((await getActiveModelId()) === id) await setActiveModelId(null);
}

/** Bytes a model's folder holds (partial files of an unfinished import included). */
export async function modelStorageBytes(id: string): Promise<number> {
  const dir = isModelId(id) ? await modelDir(id, false) : null;
  if (!dir) return 0;
  return (await listFiles(dir)).reduce((a, [, n]) => a + n, 0);
}

export interface StorageInfo {
  /** Bytes this site uses (all storage, not only models). */
  usage: number;
  quota: number;
  /** quota − usage. */
  available: number;
  /** The browser will not evict this site's data under storage pressure. */
  persisted: boolean;
}

export async function storageInfo(): Promise<StorageInfo> {
  const e = await navigator.storage.estimate();
  const usage = e.usage ?? 0;
  const quota = e.quota ?? 0;
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted().catch(() => false) : false;
  return { usage, quota, available: Math.max(0, quota - usage), persisted };
}

const ACTIVE_KEY = 'activeModelId';

export async function getActiveModelId(): Promise<string | null> {
  return (await getSetting<string>(ACTIVE_KEY)) ?? null;
}

/** Makes `id` the model the engine loads (it must be verified), or clears the choice. */
export async function setActiveModelId(id: string | null): Promise<void> {
  if (id !== null) await getModel(id);
  await setSetting(ACTIVE_KEY, id ?? undefined);
}
