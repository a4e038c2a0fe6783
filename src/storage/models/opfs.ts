/**
 * OPFS helpers for the model store (window and worker alike: only navigator.storage and the File
 * System handles, no DOM). Paths are '/'-separated and relative to a model's folder.
 */
import { isQuotaExceeded, StorageQuotaError, StorageUnavailableError } from '../errors';

export const MODELS_DIR = 'models';

export async function opfsRoot(): Promise<FileSystemDirectoryHandle> {
  if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) throw new StorageUnavailableError('navigator.storage.getDirectory is missing');
  try {
    return await navigator.storage.getDirectory();
  } catch (err) {
    throw new StorageUnavailableError((err as Error).message);
  }
}

export async function modelsRoot(): Promise<FileSystemDirectoryHandle> {
  return (await opfsRoot()).getDirectoryHandle(MODELS_DIR, { create: true });
}

const isNotFound = (err: unknown) => (err as { name?: string }).name === 'NotFoundError' || (err as { name?: string }).name === 'TypeMismatchError';

/** models/<id>, or null when absent (and `create` is false). */
export async function modelDir(id: string, create: boolean): Promise<FileSystemDirectoryHandle | null> {
  try {
    return await (await modelsRoot()).getDirectoryHandle(id, { create });
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** The folder holding `path`'s last part, created on the way when asked. */
export async function parentDir(base: FileSystemDirectoryHandle, path: string, create: boolean): Promise<FileSystemDirectoryHandle | null> {
  let dir = base;
  const parts = path.split('/');
  for (const p of parts.slice(0, -1)) {
    try {
      dir = await dir.getDirectoryHandle(p, { create });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
  return dir;
}

export const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

export async function fileHandle(base: FileSystemDirectoryHandle, path: string, create = false): Promise<FileSystemFileHandle | null> {
  const dir = await parentDir(base, path, create);
  if (!dir) return null;
  try {
    return await dir.getFileHandle(baseName(path), { create });
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Size of a file, or null when it is not there. */
export async function fileSize(base: FileSystemDirectoryHandle, path: string): Promise<number | null> {
  const h = await fileHandle(base, path);
  return h ? (await h.getFile()).size : null;
}

export async function removePath(base: FileSystemDirectoryHandle, path: string): Promise<void> {
  const dir = await parentDir(base, path, false);
  if (!dir) return;
  try {
    await dir.removeEntry(baseName(path), { recursive: true });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

interface Movable {
  move?(name: string): Promise<void>;
}

/**
 * Renames `from` to `to` in the same folder, replacing `to`. FileSystemHandle.move (Chromium) is a
 * rename; without it the bytes are copied and the source removed.
 */
export async function renameFile(dir: FileSystemDirectoryHandle, from: string, to: string): Promise<void> {
  const src = await dir.getFileHandle(from);
  const move = (src as unknown as Movable).move;
  if (typeof move === 'function') {
    await move.call(src, to);
    return;
  }
  const dst = await dir.getFileHandle(to, { create: true });
  const w = await dst.createWritable();
  try {
    await (await src.getFile()).stream().pipeTo(w);
  } catch (err) {
    await w.abort().catch(() => undefined);
    throw err;
  }
  await dir.removeEntry(from);
}

/**
 * Writes a small file atomically: `<name>.tmp` first, then renamed over `name`, so a reader sees the
 * old file or the whole new one, never a half-written one (the manifest relies on this).
 */
export async function writeFileAtomic(base: FileSystemDirectoryHandle, path: string, text: string): Promise<void> {
  const dir = (await parentDir(base, path, true))!;
  const tmp = `${baseName(path)}.tmp`;
  const h = await dir.getFileHandle(tmp, { create: true });
  const bytes = new TextEncoder().encode(text);
  try {
    if (typeof h.createWritable === 'function') {
      const w = await h.createWritable();
      await w.write(bytes);
      await w.close();
    } else {
      const s = await h.createSyncAccessHandle();
      try {
        s.truncate(0);
        s.write(bytes, { at: 0 });
        s.flush();
      } finally {
        s.close();
      }
    }
  } catch (err) {
    if (isQuotaExceeded(err)) throw new StorageQuotaError(bytes.byteLength, 0, path);
    throw err;
  }
  await renameFile(dir, tmp, baseName(path));
}

export async function readText(base: FileSystemDirectoryHandle, path: string): Promise<string | null> {
  const h = await fileHandle(base, path);
  return h ? (await h.getFile()).text() : null;
}

/** The folder's entries (lib.dom's types lack the async iterator that browsers have). */
export function entries(dir: FileSystemDirectoryHandle): AsyncIterable<[string, FileSystemHandle]> {
  return (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries();
}

/** Every file under `dir` (recursive) as [relative path, size]. */
export async function listFiles(dir: FileSystemDirectoryHandle, prefix = ''): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for await (const [name, h] of entries(dir)) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (h.kind === 'file') out.push([path, (await (h as FileSystemFileHandle).getFile()).size]);
    else out.push(...(await listFiles(h as FileSystemDirectoryHandle, path)));
  }
  return out;
}
