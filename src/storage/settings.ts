/**
 * The `settings` idb-keyval store (DESIGN.md: one store per concern). One database with one object
 * store, because idb-keyval's createStore opens version 1 with only the store it names. Usable from
 * a worker (IndexedDB is in both).
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';

let store: UseStore | undefined;

function settings(): UseStore {
  store ??= createStore('cidm-settings', 'settings');
  return store;
}

export async function getSetting<T>(key: string): Promise<T | undefined> {
  return get<T>(key, settings());
}

export async function setSetting<T>(key: string, value: T | undefined): Promise<void> {
  if (value === undefined) await del(key, settings());
  else await set(key, value, settings());
}
