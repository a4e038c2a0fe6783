/**
 * What this site keeps on the device, per concern (DESIGN.md: one store per concern), for the Settings
 * page's storage view: the browser's estimate (navigator.storage.estimate, which counts IndexedDB and
 * OPFS together, and may lag), every concern the studio stores measured by walking it (models and
 * unfinished imports, gallery, scenes, concepts, training, LoRAs, the app, settings: usage-table.ts
 * adds them up); the clean-ups; and the request that the browser keep all of it (Storage API
 * "persistent" bucket mode, https://storage.spec.whatwg.org/#persistence). No React: the UI calls these and shows the results.
 */
import { deleteImage, listImages } from './gallery/gallery-store';
import { listModels, storageInfo, type StorageInfo } from './models/store';
import type { ModelEntry } from './models/types';
import { deleteScene, listScenes } from './scenes/scenes-store';
import { concernTable, type ConcernUsage, type UsagePart } from './usage-table';
import { measureCaches, measureDatabases, measureOpfsRest } from './usage-walk';

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
  /** Every concern the studio stores, measured by walking it (usage-walk.ts); the studio total is their sum. */
  concerns: ConcernUsage[];
  /** One line per concern that could not be read (the rest is still shown). */
  problems: string[];
}

export type PersistOutcome = 'granted' | 'denied' | 'unsupported';

export type { ConcernUsage } from './usage-table';
export { approxBytes } from './approx-bytes';

// ---- reading ----

/**
 * Reads one concern; a failure adds a plain line to `problems` (the exception goes to the console)
 * and gives `fallback`, so the rest is still shown.
 */
function attempt<T>(problems: string[], what: string, read: () => Promise<T>, fallback: T): Promise<T> {
  return read().catch((err: unknown) => {
    console.warn(`storage view: ${what}`, err);
    problems.push(`${what} Reload the page to read it again.`);
    return fallback;
  });
}

/** The model folders as table parts: verified models and unfinished imports. */
function modelParts(models: readonly ModelUsage[]): UsagePart[] {
  return models.map((m) => ({ key: m.state === 'verified' ? 'models' : 'imports', bytes: m.bytes, count: 1 }));
}

/**
 * Everything the storage view shows. Each concern is read on its own, so one failure hides only
 * itself. The gallery's and the scenes' bytes are their rows of the table (the same walk), so the
 * sections below the table never disagree with it.
 */
export async function readStorageUsage(): Promise<StorageUsage> {
  const problems: string[] = [];
  const [estimate, models, images, scenes, databases, opfsRest, app] = await Promise.all([
    attempt(problems, "The browser did not report its storage use; the studio's own count is shown.", storageInfo, null),
    attempt(
      problems,
      'The models could not be listed; the table leaves them out.',
      async () => (await listModels()).map((m): ModelUsage => ({ id: m.id, name: m.name, state: m.state, bytes: m.bytesOnDisk })),
      [] as ModelUsage[],
    ),
    attempt(problems, 'The gallery could not be read.', listImages, { images: [], unreadable: [] as string[] }),
    attempt(problems, 'The scenes could not be read.', listScenes, { scenes: [], unreadable: [] as string[] }),
    attempt(problems, 'The databases (gallery, scenes, concepts, training, settings) could not be measured; the table leaves them out.', measureDatabases, [] as UsagePart[]),
    attempt(problems, 'The LoRA files could not be measured; the table leaves them out.', measureOpfsRest, [] as UsagePart[]),
    attempt(problems, "The app's offline copy could not be measured; the table leaves it out.", measureCaches, [] as UsagePart[]),
  ]);
  const concerns = concernTable([...modelParts(models), ...databases, ...opfsRest, ...app]);
  const rowBytes = (key: ConcernUsage['key']) => concerns.find((c) => c.key === key)?.bytes ?? 0;
  return {
    estimate,
    models,
    modelsBytes: models.reduce((a, m) => a + m.bytes, 0),
    gallery: { count: images.images.length, unreadable: images.unreadable.length, bytes: rowBytes('gallery') },
    scenes: { count: scenes.scenes.length, unreadable: scenes.unreadable.length, bytes: rowBytes('scenes') },
    concerns,
    problems,
  };
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
