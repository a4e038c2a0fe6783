/**
 * Kernel tuning tables (engine/autotune.ts) in IndexedDB, one per adapter: measured once per GPU and
 * driver, re-measured from the GPU page. Small records (a few KB); idb-keyval works in the engine's
 * worker as on the page.
 */
import { del, get, set } from 'idb-keyval';
import type { StoredTuning, TuningStore } from '../../engine/autotune';

const KEY = (adapter: string) => `kernel-tuning:${adapter}`;

export const idbTuningStore: TuningStore = {
  async load(adapter) {
    const v = (await get(KEY(adapter))) as StoredTuning | undefined;
    return v && Array.isArray(v.table) && v.summary ? v : null;
  },
  save: (adapter, t) => set(KEY(adapter), t),
  clear: (adapter) => del(KEY(adapter)),
};

/** For Node (CLI, tests): kept for the life of the process. */
export function memoryTuningStore(): TuningStore & { readonly entries: Map<string, StoredTuning> } {
  const entries = new Map<string, StoredTuning>();
  return {
    entries,
    load: async (a) => entries.get(a) ?? null,
    save: async (a, t) => void entries.set(a, t),
    clear: async (a) => void entries.delete(a),
  };
}
