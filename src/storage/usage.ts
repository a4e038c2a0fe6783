/**
 * What this site keeps on the device, per concern (DESIGN.md: one store per concern), for the Settings
 * page's storage view: the browser's estimate (navigator.storage.estimate, which counts IndexedDB and
 * OPFS together), the models in OPFS, the gallery and the scenes; the clean-ups; and the request that
 * the browser keep all of it (Storage API "persistent" bucket mode,
 * https://storage.spec.whatwg.org/#persistence). No React: the UI calls these and shows the results.
 */
import { createStore, entries, type UseStore } from 'idb-keyval';
import { deleteImage, galleryBytes, listImages } from './gallery/gallery-store';
import { listModels, storageInfo, type StorageInfo } from './models/store';
import type { ModelEntry } from './models/types';
import { deleteScene, listScenes, SCENES_DB } from './scenes/scenes-store';

export interface ModelUsage {
  id: string;
  name: string;
  state: ModelEntry['state'];
  /** Bytes the model's folder holds (every file, partial ones of an unfinished import included). */
  bytes: number;
}

export interface CollectionUsage {
  /** Readable entries. */
  count: number;
  /** Entries that could not be read (they still take space; "Delete all" removes them too). */
  unreadable: number;
  bytes: number;
}

export interface StorageUsage {
  /** The browser's estimate, or null where it reports none. */
  estimate: StorageInfo | null;
  models: ModelUsage[];
  modelsBytes: number;
  gallery: CollectionUsage;
  scenes: CollectionUsage;
  /** One line per concern that could not be read (the rest is still shown). */
  problems: string[];
}

export type PersistOutcome = 'granted' | 'denied' | 'unsupported';

// ---- pure parts (unit-tested in usage.test.ts) ----

/**
 * An approximate stored size of a structured-clone value: binary data (Blobs, ArrayBuffers, typed
 * arrays) by its byte length, strings one byte per code unit (mostly ASCII prompts and names),
 * numbers 8 bytes, plus nothing for the container itself. Scene masks dominate, so this is close.
 */
export function approxBytes(value: unknown, seen: Set<object> = new Set()): number {
  if (value === null || value === undefined) return 0;
  switch (typeof value) {
    case 'string':
      return value.length;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'object':
      break;
    default:
      return 0;
  }
  const o = value as object;
  if (seen.has(o)) return 0;
  seen.add(o);
  if (typeof Blob !== 'undefined' && o instanceof Blob) return o.size;
  if (o instanceof ArrayBuffer) return o.byteLength;
  if (ArrayBuffer.isView(o)) return o.byteLength;
  if (o instanceof Date) return 8;
  if (o instanceof Map) {
    let n = 0;
    for (const [k, v] of o) n += approxBytes(k, seen) + approxBytes(v, seen);
    return n;
  }
  if (o instanceof Set) {
    let n = 0;
    for (const v of o) n += approxBytes(v, seen);
    return n;
  }
  let n = 0;
  for (const [k, v] of Object.entries(o)) n += (Array.isArray(o) ? 0 : k.length) + approxBytes(v, seen);
  return n;
}

export interface UsageSegment {
  key: 'models' | 'gallery' | 'scenes' | 'other';
  label: string;
  bytes: number;
  /** Share of the quota, 0..1 (0 when the quota is unknown). */
  fraction: number;
}

/**
 * The used bytes split by concern, for the bar: models, gallery, scenes and "other" (settings, the
 * app's own cache, the browser's overhead; what the estimate counts beyond the three). The parts are
 * measured separately from the estimate, so "other" is clamped at 0.
 */
export function usageSegments(usage: number, quota: number, parts: { models: number; gallery: number; scenes: number }): UsageSegment[] {
  const known = parts.models + parts.gallery + parts.scenes;
  const segs: Omit<UsageSegment, 'fraction'>[] = [
    { key: 'models', label: 'Models', bytes: parts.models },
    { key: 'gallery', label: 'Gallery', bytes: parts.gallery },
    { key: 'scenes', label: 'Scenes', bytes: parts.scenes },
    { key: 'other', label: 'Other', bytes: Math.max(0, usage - known) },
  ];
  // The segments' bytes add up to max(usage, known) <= denominator, so the fractions never exceed 1.
  const denominator = quota > 0 ? Math.max(quota, usage, known) : 0;
  return segs.map((s) => ({ ...s, fraction: denominator > 0 ? s.bytes / denominator : 0 }));
}

/** Used share of the quota, 0..1 (0 when the quota is unknown). */
export function usedFraction(usage: number, quota: number): number {
  return quota > 0 ? Math.max(0, Math.min(1, usage / quota)) : 0;
}

// ---- reading ----

let scenesRaw: UseStore | undefined;

/** The scenes database read raw (the scenes store has no size query; masks are PackBits bytes). */
async function scenesBytes(): Promise<number> {
  scenesRaw ??= createStore(SCENES_DB, 'scenes');
  let n = 0;
  for (const [, raw] of await entries<string, unknown>(scenesRaw)) n += approxBytes(raw);
  return n;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const EMPTY: CollectionUsage = { count: 0, unreadable: 0, bytes: 0 };

/** Everything the storage view shows. Each concern is read on its own, so one failure hides only itself. */
export async function readStorageUsage(): Promise<StorageUsage> {
  const problems: string[] = [];
  const [estimate, models, gallery, scenes] = await Promise.all([
    storageInfo().catch((err: unknown) => {
      problems.push(`The browser did not report its storage use (${message(err)}).`);
      return null;
    }),
    listModels().then(
      (list) => list.map((m): ModelUsage => ({ id: m.id, name: m.name, state: m.state, bytes: m.bytesOnDisk })),
      (err: unknown) => {
        problems.push(`The models could not be listed: ${message(err)}`);
        return [] as ModelUsage[];
      },
    ),
    Promise.all([listImages(), galleryBytes()]).then(
      ([{ images, unreadable }, bytes]): CollectionUsage => ({ count: images.length, unreadable: unreadable.length, bytes }),
      (err: unknown) => {
        problems.push(`The gallery could not be read: ${message(err)}`);
        return EMPTY;
      },
    ),
    Promise.all([listScenes(), scenesBytes()]).then(
      ([{ scenes, unreadable }, bytes]): CollectionUsage => ({ count: scenes.length, unreadable: unreadable.length, bytes }),
      (err: unknown) => {
        problems.push(`The scenes could not be read: ${message(err)}`);
        return EMPTY;
      },
    ),
  ]);
  return { estimate, models, modelsBytes: models.reduce((a, m) => a + m.bytes, 0), gallery, scenes, problems };
}

// ---- clean-ups ----

/** Deletes every gallery entry (unreadable ones too); returns how many. */
export async function deleteAllImages(): Promise<number> {
  const { images, unreadable } = await listImages();
  const ids = [...images.map((i) => i.id), ...unreadable];
  for (const id of ids) await deleteImage(id);
  return ids.length;
}

/** Deletes every saved scene (unreadable ones too); returns their ids. */
export async function deleteAllScenes(): Promise<string[]> {
  const { scenes, unreadable } = await listScenes();
  const ids = [...scenes.map((s) => s.id), ...unreadable];
  for (const id of ids) await deleteScene(id);
  return ids;
}

// ---- persistence ----

/** Whether the browser has agreed to keep this site's data (false where the API is missing). */
export async function isPersisted(): Promise<boolean> {
  const s = typeof navigator === 'undefined' ? undefined : navigator.storage;
  if (!s?.persisted) return false;
  return s.persisted().catch(() => false);
}

/**
 * Asks the browser to keep this site's data under storage pressure. The browser decides (Chromium
 * from site engagement, installation and notifications, without a prompt; Firefox asks the person).
 * Nothing is uploaded either way; the answer only changes what the browser may evict.
 */
export async function requestPersistence(): Promise<PersistOutcome> {
  const s = typeof navigator === 'undefined' ? undefined : navigator.storage;
  if (!s?.persist) return 'unsupported';
  try {
    return (await s.persist()) ? 'granted' : 'denied';
  } catch {
    return 'denied';
  }
}
