/**
 * The Settings page's state (its own zustand store, beside the shell's): the last storage reading,
 * the clean-up in progress and its outcome, and the answer to "Keep my data". The actions below do
 * the work through src/storage/usage.ts and keep the other sections' stores in step (the gallery and
 * the scene list are reloaded, the model list refreshed), then read the storage use again.
 */
import { create } from 'zustand';
import { formatSize } from '../../storage/bytes';
import { deleteAllImages, deleteAllScenes, readStorageUsage, requestPersistence, type PersistOutcome, type StorageUsage } from '../../storage/usage';
import { loadGallery } from '../gallery/gallery-state';
import type { UnfinishedImport } from '../../storage/unfinished-imports';
import { removeModel } from '../models/actions';
import { clearFailedImports } from '../models/clear-imports';
import { clearOutcomeText } from '../models/clear-imports-text';
import { loadSceneList, useScenes } from '../scenes/scene-store';
import { reasonOf } from '../plain-error';

export type CleanupKind = 'images' | 'scenes' | 'model' | 'imports';

export interface SettingsState {
  usage: StorageUsage | null;
  loading: boolean;
  /** The clean-up running now (a model's id for 'model'). */
  busy: { kind: CleanupKind; id?: string } | null;
  /** What the last clean-up did, or why it failed. */
  outcome: { ok: boolean; text: string } | null;
  /** The answer to the last "Keep my data" in this tab. */
  persistRequest: PersistOutcome | null;
  persistBusy: boolean;
}

export const useSettings = create<SettingsState>()(() => ({
  usage: null,
  loading: false,
  busy: null,
  outcome: null,
  persistRequest: null,
  persistBusy: false,
}));

const set = useSettings.setState;
let reading: Promise<void> | null = null;

/** Reads the storage use again (one reading at a time; a second call waits for it and reads again). */
export async function refreshUsage(): Promise<void> {
  while (reading) await reading.catch(() => undefined);
  set({ loading: true });
  reading = readStorageUsage()
    .then((usage) => set({ usage }))
    .finally(() => {
      reading = null;
      set({ loading: false });
    });
  await reading;
}

const freed = (before: number | undefined, after: number | undefined) =>
  before !== undefined && after !== undefined && before > after ? `; about ${formatSize(before - after)} freed` : '';

/** Runs a clean-up; `work` says what it did (a whole sentence, or a phrase the bytes freed are added to). */
async function cleanup(kind: CleanupKind, id: string | undefined, work: () => Promise<string | { ok: boolean; text: string }>): Promise<void> {
  if (useSettings.getState().busy) return;
  const before = useSettings.getState().usage?.estimate?.usage;
  set({ busy: { kind, id }, outcome: null });
  try {
    const done = await work();
    await refreshUsage();
    const outcome = typeof done === 'string' ? { ok: true, text: `${done}${freed(before, useSettings.getState().usage?.estimate?.usage)}.` } : done;
    set({ outcome });
  } catch (err) {
    set({ outcome: { ok: false, text: reasonOf(err) } });
    await refreshUsage().catch(() => undefined);
  } finally {
    set({ busy: null });
  }
}

export function clearGallery(): Promise<void> {
  return cleanup('images', undefined, async () => {
    try {
      const n = await deleteAllImages();
      return n === 1 ? 'Deleted 1 image' : `Deleted ${n} images`;
    } catch (err) {
      throw new Error(`The gallery could not be emptied: ${reasonOf(err)}`);
    } finally {
      await loadGallery();
    }
  });
}

export function clearScenes(): Promise<void> {
  return cleanup('scenes', undefined, async () => {
    try {
      const ids = await deleteAllScenes();
      // The open scene stays open, as an unsaved one (as when it is deleted from the Scenes page).
      if (ids.includes(useScenes.getState().doc.scene.id)) useScenes.setState({ savedRev: null });
      return ids.length === 1 ? 'Deleted 1 scene' : `Deleted ${ids.length} scenes`;
    } catch (err) {
      throw new Error(`The scenes could not be deleted: ${reasonOf(err)}`);
    } finally {
      await loadSceneList();
    }
  });
}

export function deleteStoredModel(id: string, name: string): Promise<void> {
  return cleanup('model', id, async () => {
    const error = await removeModel(id);
    if (error) throw new Error(`${name} could not be deleted: ${error}`);
    return `Deleted ${name}`;
  });
}

/** "Clear failed imports": every unfinished import in `list` (the view shows how many and their bytes first). */
export function clearImports(list: readonly UnfinishedImport[]): Promise<void> {
  return cleanup('imports', undefined, async () => {
    const out = await clearFailedImports(list);
    return { ok: out.busy.length === 0 && out.failed.length === 0, text: clearOutcomeText(out) };
  });
}

/** Asks the browser to keep the data; the page shows the answer and the reading is refreshed. */
export async function keepMyData(): Promise<void> {
  set({ persistBusy: true });
  try {
    const answer = await requestPersistence();
    set({ persistRequest: answer });
    await refreshUsage();
  } finally {
    set({ persistBusy: false });
  }
}
