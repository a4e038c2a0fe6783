/**
 * The page's view of the concept library (IndexedDB, src/storage/concepts): the summaries the
 * Concepts page, the prompt autocomplete and the Scenes regions read. Being built this session;
 * `refresh()` re-reads the store after a save, import, rename or delete.
 */
import { create } from 'zustand';
import { listConcepts } from '../../storage/concepts/store';
import type { ConceptSummary } from '../../storage/concepts/record';

export interface ConceptsState {
  concepts: ConceptSummary[];
  unreadable: string[];
  loaded: boolean;
  refresh(): Promise<void>;
}

export const useConcepts = create<ConceptsState>((set) => ({
  concepts: [],
  unreadable: [],
  loaded: false,
  async refresh() {
    const { concepts, unreadable } = await listConcepts();
    set({ concepts, unreadable, loaded: true });
  },
}));
