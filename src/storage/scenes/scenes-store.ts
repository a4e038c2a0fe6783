/**
 * The scenes' idb-keyval store (its own database, DESIGN.md: one store per concern). A save is one
 * IndexedDB put of the whole scene (masks run-length coded), so a crash never leaves half a scene.
 * Reads upgrade old records (record.ts) and write the upgrade back once.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import { decodeScene, encodeScene, SCENE_SCHEMA_VERSION, upgradeSceneRecord, type SceneData } from './record';

export const SCENES_DB = 'cidm-scenes';
let store: UseStore | undefined;

function db(): UseStore {
  store ??= createStore(SCENES_DB, 'scenes');
  return store;
}

/** What the scene list shows, without decoding any mask. */
export interface SceneSummary {
  id: string;
  name: string;
  width: number;
  height: number;
  layerCount: number;
  layerNames: string[];
  createdAt: number;
  updatedAt: number;
}

export async function putScene(scene: SceneData): Promise<void> {
  await set(scene.id, encodeScene(scene), db());
}

export async function getScene(id: string): Promise<SceneData | undefined> {
  const raw = await get<unknown>(id, db());
  if (raw === undefined) return undefined;
  const r = upgradeSceneRecord(raw);
  if ((raw as { v: number }).v !== SCENE_SCHEMA_VERSION) await set(id, r, db());
  return decodeScene(r);
}

/** Every saved scene, last saved first; unreadable records are reported, not dropped. */
export async function listScenes(): Promise<{ scenes: SceneSummary[]; unreadable: string[] }> {
  const scenes: SceneSummary[] = [];
  const unreadable: string[] = [];
  for (const [key, raw] of await entries<string, unknown>(db())) {
    try {
      const r = upgradeSceneRecord(raw);
      if ((raw as { v: number }).v !== SCENE_SCHEMA_VERSION) await set(key, r, db());
      scenes.push({ id: r.id, name: r.name, width: r.width, height: r.height, layerCount: r.layers.length, layerNames: r.layers.map((l) => l.name), createdAt: r.createdAt, updatedAt: r.updatedAt });
    } catch {
      unreadable.push(String(key));
    }
  }
  scenes.sort((a, b) => b.updatedAt - a.updatedAt);
  return { scenes, unreadable };
}

export async function deleteScene(id: string): Promise<void> {
  await del(id, db());
}
