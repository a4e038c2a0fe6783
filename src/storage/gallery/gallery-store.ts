/**
 * The gallery's idb-keyval store (its own database, DESIGN.md: one store per concern). Each entry is
 * one IndexedDB put (the PNG blob and its metadata together), so a crash never leaves half an entry.
 * Reads upgrade old records (record.ts) and write the upgrade back once.
 */
import { createStore, del, delMany, entries, get, set, type UseStore } from 'idb-keyval';
import { GALLERY_SCHEMA_VERSION, upgradeRecord, type GalleryRecord } from './record';

export const GALLERY_DB = 'cidm-gallery';
let store: UseStore | undefined;

function db(): UseStore {
  store ??= createStore(GALLERY_DB, 'images');
  return store;
}

export async function putImage(r: GalleryRecord): Promise<void> {
  await set(r.id, r, db());
}

export async function getImage(id: string): Promise<GalleryRecord | undefined> {
  const raw = await get<unknown>(id, db());
  if (raw === undefined) return undefined;
  const r = upgradeRecord(raw);
  if ((raw as { v: number }).v !== GALLERY_SCHEMA_VERSION) await set(id, r, db());
  return r;
}

/** Every entry, newest first; old records are upgraded (and stored upgraded). Unreadable ones are reported, not dropped. */
export async function listImages(): Promise<{ images: GalleryRecord[]; unreadable: string[] }> {
  const images: GalleryRecord[] = [];
  const unreadable: string[] = [];
  for (const [key, raw] of await entries<string, unknown>(db())) {
    try {
      const r = upgradeRecord(raw);
      if ((raw as { v: number }).v !== GALLERY_SCHEMA_VERSION) await set(key, r, db());
      images.push(r);
    } catch {
      unreadable.push(String(key));
    }
  }
  images.sort((a, b) => b.createdAt - a.createdAt);
  return { images, unreadable };
}

export async function deleteImage(id: string): Promise<void> {
  await del(id, db());
}

/** Several entries in one IndexedDB transaction: all of them go, or (on a failure) none. */
export async function deleteImages(ids: readonly string[]): Promise<void> {
  await delMany([...ids], db());
}

/** Bytes the gallery's PNGs take (metadata is negligible beside them). */
export async function galleryBytes(): Promise<number> {
  let n = 0;
  for (const [, raw] of await entries<string, { png?: Blob }>(db())) n += raw.png?.size ?? 0;
  return n;
}
