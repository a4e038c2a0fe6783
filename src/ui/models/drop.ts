/**
 * Files from a drag-and-drop or a folder picker, as import requests. A dropped folder is walked
 * with getAsFileSystemHandle (Chromium) or webkitGetAsEntry (the older entry API); both must be asked
 * for during the drop event itself, before any await, or the DataTransfer is emptied.
 */
import { splitFolderPaths, type FolderFile } from '../../storage/models/plan';

export type Picked = { type: 'file'; file: File } | { type: 'folder'; name: string; files: FolderFile[] } | { type: 'none'; why: string };

/** An <input webkitdirectory> FileList: paths are "<folder>/<path inside>". */
export function fromFolderInput(list: FileList): Picked {
  const all = Array.from(list);
  if (all.length === 0) return { type: 'none', why: 'The folder is empty.' };
  const { name, paths } = splitFolderPaths(all.map((f) => f.webkitRelativePath || f.name));
  return { type: 'folder', name, files: all.map((file, i) => ({ path: paths[i]!, file })) };
}

interface HandleItem {
  getAsFileSystemHandle?(): Promise<FileSystemHandle | null>;
}

async function walkHandle(dir: FileSystemDirectoryHandle, prefix: string, out: FolderFile[]): Promise<void> {
  for await (const [name, h] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (h.kind === 'file') out.push({ path, file: await (h as FileSystemFileHandle).getFile() });
    else await walkHandle(h as FileSystemDirectoryHandle, path, out);
  }
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

async function walkEntry(dir: FileSystemDirectoryEntry, prefix: string, out: FolderFile[]): Promise<void> {
  const reader = dir.createReader();
  // readEntries returns the listing in batches (100 in Chromium) until an empty one.
  for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) {
    for (const e of batch) {
      const path = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isFile) out.push({ path, file: await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)) });
      else await walkEntry(e as FileSystemDirectoryEntry, path, out);
    }
  }
}

/** What was dropped: one .safetensors file, or one folder. Call synchronously from the drop handler. */
export function fromDrop(dt: DataTransfer): Promise<Picked> {
  const items = Array.from(dt.items).filter((i) => i.kind === 'file');
  const handles = items.map((i) => (i as unknown as HandleItem).getAsFileSystemHandle?.() ?? null);
  const entriesNow = items.map((i) => i.webkitGetAsEntry?.() ?? null);
  const filesNow = Array.from(dt.files);
  return (async (): Promise<Picked> => {
    if (items.length !== 1) return { type: 'none', why: 'Drop one .safetensors file or one diffusers folder.' };
    const handle = await handles[0];
    if (handle?.kind === 'directory') {
      const files: FolderFile[] = [];
      await walkHandle(handle as FileSystemDirectoryHandle, '', files);
      return { type: 'folder', name: handle.name, files };
    }
    const entry = entriesNow[0];
    if (entry?.isDirectory) {
      const files: FolderFile[] = [];
      await walkEntry(entry as FileSystemDirectoryEntry, '', files);
      return { type: 'folder', name: entry.name, files };
    }
    const file = filesNow[0];
    if (!file) return { type: 'none', why: 'Nothing readable was dropped.' };
    return { type: 'file', file };
  })();
}
