/**
 * Measures what the studio actually holds, by walking it rather than trusting each store's own idea
 * of its size: every IndexedDB database of the site (every object store, record by record, one at a
 * time so a checkpoint of hundreds of MB is never held twice), the OPFS entries outside the model
 * folders (LoRA files, anything else), and the app's offline copy in Cache Storage. The model
 * folders are measured by listModels (store.ts), which walks their files. Each result is a UsagePart
 * for usage-table.ts.
 */
import { approxBytes } from './approx-bytes';
import { CHECKPOINTS_DB } from './concepts/checkpoint-store';
import { FORGETTING_DB } from './concepts/library-extra';
import { CONCEPTS_DB } from './concepts/store';
import { JOBS_DB } from './concepts/job-store';
import { GALLERY_DB } from './gallery/gallery-store';
import { LORAS_DB } from './loras/store';
import { isModelId } from './models/manifest';
import { entries, listFiles, MODELS_DIR, opfsRoot } from './models/opfs';
import { SCENES_DB } from './scenes/scenes-store';
import { databaseConcern, opfsConcern, type UsagePart } from './usage-table';

/** The studio's databases, for a browser without indexedDB.databases() (it then cannot list others). */
const KNOWN_DATABASES = [GALLERY_DB, SCENES_DB, CONCEPTS_DB, JOBS_DB, CHECKPOINTS_DB, LORAS_DB, FORGETTING_DB, 'cidm-settings', 'cidm-model-hashes'];

/** Opens a database as it is, or null when it does not exist (it is not created by looking). */
function openExisting(name: string): Promise<IDBDatabase | null> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name);
    // An upgrade on a version-less open means the database is not there: abort, so nothing is created.
    req.onupgradeneeded = () => req.transaction?.abort();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => (req.error?.name === 'AbortError' ? resolve(null) : reject(req.error));
    req.onblocked = () => resolve(null);
  });
}

/** Records and approximate bytes (keys and values) of one object store, read with a cursor. */
function measureObjectStore(db: IDBDatabase, store: string): Promise<{ count: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, 'readonly');
    const req = tx.objectStore(store).openCursor();
    let count = 0;
    let bytes = 0;
    req.onsuccess = () => {
      const cursor = req.result;
      if (!cursor) return;
      count++;
      bytes += approxBytes(cursor.key) + approxBytes(cursor.value);
      cursor.continue();
    };
    tx.oncomplete = () => resolve({ count, bytes });
    tx.onerror = () => reject(tx.error ?? req.error);
    tx.onabort = () => reject(tx.error ?? new Error(`reading ${store} was aborted`));
  });
}

async function databaseNames(): Promise<string[]> {
  const list = typeof indexedDB.databases === 'function' ? await indexedDB.databases().catch(() => null) : null;
  if (!list) return KNOWN_DATABASES;
  return list.map((d) => d.name).filter((n): n is string => typeof n === 'string');
}

/** Every IndexedDB database of the site, one part per database. */
export async function measureDatabases(): Promise<UsagePart[]> {
  if (typeof indexedDB === 'undefined') return [];
  const parts: UsagePart[] = [];
  for (const name of await databaseNames()) {
    const db = await openExisting(name);
    if (!db) continue;
    try {
      let count = 0;
      let bytes = 0;
      for (const store of Array.from(db.objectStoreNames)) {
        const m = await measureObjectStore(db, store);
        count += m.count;
        bytes += m.bytes;
      }
      const concern = databaseConcern(name);
      parts.push({ key: concern.key, bytes, count: concern.counts ? count : 0 });
    } finally {
      db.close();
    }
  }
  return parts;
}

/**
 * OPFS outside the model folders: the LoRA files, and anything else (a stray file in models/, a
 * folder of an older version), each top-level entry one part.
 */
export async function measureOpfsRest(): Promise<UsagePart[]> {
  const root = await opfsRoot();
  const parts: UsagePart[] = [];
  const add = (top: string, files: [string, number][]) => {
    const concern = opfsConcern(top);
    parts.push({ key: concern.key, bytes: files.reduce((a, [, n]) => a + n, 0), count: concern.counts ? files.length : 0 });
  };
  for await (const [name, h] of entries(root)) {
    if (h.kind === 'file') {
      add(name, [[name, (await (h as FileSystemFileHandle).getFile()).size]]);
    } else if (name === MODELS_DIR) {
      // Folders named like a model are listModels' (incomplete ones included); the rest is "other".
      for await (const [child, ch] of entries(h as FileSystemDirectoryHandle)) {
        if (ch.kind === 'directory' && isModelId(child)) continue;
        add(name, ch.kind === 'file' ? [[child, (await (ch as FileSystemFileHandle).getFile()).size]] : await listFiles(ch as FileSystemDirectoryHandle));
      }
    } else {
      add(name, await listFiles(h as FileSystemDirectoryHandle));
    }
  }
  return parts;
}

/** The app's offline copy (the service worker's caches): one item per cached response. */
export async function measureCaches(): Promise<UsagePart[]> {
  if (typeof caches === 'undefined') return [];
  let count = 0;
  let bytes = 0;
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) {
      const resp = await cache.match(req);
      if (!resp) continue;
      count++;
      bytes += (await resp.blob()).size;
    }
  }
  return [{ key: 'app', bytes, count }];
}
