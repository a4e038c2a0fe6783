/**
 * The page's view of the concept library (IndexedDB, src/storage/concepts): the summaries the
 * Concepts page, the prompt autocomplete and the Scenes regions read (no tensors: each SDXL concept's
 * ~12 MB stay on disk until a generate needs them, engine-sync.ts). `refresh()` re-reads the store
 * after a save, import, rename or delete; `ensureConcepts()` reads it once for a component that
 * mounts before the Concepts page was opened.
 */
import { create } from 'zustand';
import { listConcepts } from '../../storage/concepts/store';
import type { ConceptSummary } from '../../storage/concepts/record';
import { reasonOf } from '../plain-error';

export interface ConceptsState {
  concepts: ConceptSummary[];
  unreadable: string[];
  loaded: boolean;
  /** Why the library could not be read (IndexedDB unavailable, …); null when it was. */
  error: string | null;
  refresh(): Promise<void>;
}

export const useConcepts = create<ConceptsState>((set) => ({
  concepts: [],
  unreadable: [],
  loaded: false,
  error: null,
  async refresh() {
    try {
      const { concepts, unreadable } = await listConcepts();
      set({ concepts, unreadable, loaded: true, error: null });
    } catch (err) {
      set({ loaded: true, error: `The concept library cannot be read: ${reasonOf(err)}` });
    }
  },
}));

let first: Promise<void> | null = null;

/** Reads the library once per page load (later changes call refresh()). */
export function ensureConcepts(): Promise<void> {
  first ??= useConcepts.getState().refresh();
  return first;
}

/** The concepts trained on `modelId`, in task order (what prompts with that model can name). */
export function conceptsOfModel<T extends { modelId: string }>(concepts: readonly T[], modelId: string | null): T[] {
  return modelId === null ? [] : concepts.filter((c) => c.modelId === modelId);
}
