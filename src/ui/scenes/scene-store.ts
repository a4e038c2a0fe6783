/**
 * The Scenes section's state: the editor document (scene + undo history, editor/doc.ts), the tool
 * settings, the view (zoom and pan), and the saved scenes. Its own zustand store beside the shell's;
 * the actions below are plain functions so the keyboard handler, the stage and the panels share them.
 * Live strokes never go through the store (the stage paints them itself); only the finished mask does.
 */
import { create } from 'zustand';
import { createScene, newId, type Scene } from './editor/scene';
import * as D from './editor/doc';
import type { EditorDoc } from './editor/doc';
import type { ActionKind, ToolKind } from './editor/tools';
import type { LayerMeta } from './editor/history';
import { deleteScene, getScene, listScenes, putScene, type SceneSummary } from '../../storage/scenes/scenes-store';
import type { GallerySceneSnapshot } from '../../storage/gallery/record';
import { useGenerate } from '../generate/generate-store';
import { effectiveRun, type SceneRunSettings } from './scene-run';
import { planRestore } from './scene-snapshot';
import { useSceneInit } from './scene-init';
import { reasonOf } from '../plain-error';

export interface SceneView {
  /** 1 = the scene fits the stage. */
  zoom: number;
  /** Screen pixels the scene is moved from the centre. */
  panX: number;
  panY: number;
}

export interface ScenesState {
  doc: EditorDoc;
  activeLayerId: string | null;
  tool: ToolKind;
  /** Brush diameter in OUTPUT pixels (the stage converts to mask pixels). */
  brushSize: number;
  hardness: number;
  view: SceneView;
  /** doc.rev when the scene was last saved or opened; null if it was never saved. */
  savedRev: number | null;
  saved: SceneSummary[];
  savedLoaded: boolean;
  unreadable: string[];
  busy: boolean;
  error: string | null;
  notice: string | null;
}

export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 16;
const FIT: SceneView = { zoom: 1, panX: 0, panY: 0 };

function freshDoc(width = 1024, height = 1024): EditorDoc {
  return D.newDoc(createScene(width, height));
}

const initialDoc = freshDoc();

export const useScenes = create<ScenesState>()(() => ({
  doc: initialDoc,
  activeLayerId: initialDoc.scene.layers[0]?.id ?? null,
  tool: 'brush',
  brushSize: 96,
  hardness: 0.7,
  view: FIT,
  savedRev: null,
  saved: [],
  savedLoaded: false,
  unreadable: [],
  busy: false,
  error: null,
  notice: null,
}));

const get = () => useScenes.getState();

/** The active layer if it still exists, else the top one (after an undo, a delete, an open). */
function keepActive(scene: Scene, id: string | null): string | null {
  if (id && scene.layers.some((l) => l.id === id)) return id;
  return scene.layers[scene.layers.length - 1]?.id ?? null;
}

/** Applies a document operation and keeps the active layer valid. */
export function editDoc(fn: (doc: EditorDoc) => EditorDoc): void {
  const doc = fn(get().doc);
  if (doc === get().doc) return;
  useScenes.setState({ doc, activeLayerId: keepActive(doc.scene, get().activeLayerId), notice: null });
}

/** The scene being edited (for the lead's generation call: editor/regions.ts sceneGenerationInput). */
export const currentScene = (): Scene => get().doc.scene;
export const isDirty = (s: ScenesState) => s.doc.rev !== s.savedRev && (s.savedRev !== null || s.doc.rev > 0);
export const undoScene = () => editDoc(D.undo);
export const redoScene = () => editDoc(D.redo);
export const selectLayer = (activeLayerId: string) => useScenes.setState({ activeLayerId });
export const setTool = (tool: ToolKind) => useScenes.setState({ tool });
export const setBrush = (patch: Partial<Pick<ScenesState, 'brushSize' | 'hardness'>>) => useScenes.setState(patch);
export const setView = (patch: Partial<SceneView>) => useScenes.setState({ view: { ...get().view, ...patch } });
export const fitView = () => useScenes.setState({ view: FIT });

export function commitMask(layerId: string, mask: Uint8Array, label: string): void {
  editDoc((d) => D.setMask(d, layerId, mask, label));
}

export function runAction(action: ActionKind): void {
  const id = get().activeLayerId;
  if (id) editDoc((d) => D.maskAction(d, id, action));
}

export function addSceneLayer(): void {
  const { doc, layerId } = D.addLayer(get().doc, get().activeLayerId ?? undefined);
  useScenes.setState({ doc, activeLayerId: layerId });
}

export const removeSceneLayer = (id: string) => editDoc((d) => D.removeLayer(d, id));
export const moveSceneLayer = (id: string, delta: number) => editDoc((d) => D.moveLayer(d, id, delta));
export const updateSceneLayer = (id: string, patch: Partial<LayerMeta>) => editDoc((d) => D.updateLayer(d, id, patch));
export const setSceneFields = (patch: Partial<D.SceneFields>) => editDoc((d) => D.setSceneFields(d, patch));
/** Edits the scene's run settings (the first edit writes the whole set, from the Generate panel's values where unset). */
export const setSceneRun = (patch: Partial<SceneRunSettings>) => setSceneFields({ run: { ...effectiveRun(get().doc.scene, useGenerate.getState().draft), ...patch } });
export const resizeCurrentScene = (width: number, height: number) => editDoc((d) => D.resizeScene(d, width, height));

/** A new, empty scene (the caller asks about unsaved changes first). */
export function newScene(width = get().doc.scene.width, height = get().doc.scene.height): void {
  const doc = freshDoc(width, height);
  useScenes.setState({ doc, activeLayerId: keepActive(doc.scene, null), savedRev: null, view: FIT, error: null, notice: null });
}

export async function loadSceneList(): Promise<void> {
  try {
    const { scenes, unreadable } = await listScenes();
    useScenes.setState({ saved: scenes, unreadable, savedLoaded: true });
  } catch (err) {
    useScenes.setState({ savedLoaded: true, error: `The saved scenes could not be read: ${reasonOf(err)}` });
  }
}

export async function saveCurrentScene(): Promise<void> {
  const { doc } = get();
  // the run settings it shows are stored with it, so they no longer follow the Generate panel
  const scene: Scene = { ...doc.scene, run: effectiveRun(doc.scene, useGenerate.getState().draft), updatedAt: Date.now() };
  useScenes.setState({ busy: true, error: null });
  try {
    await putScene(scene);
    // The saved time lives in the scene, but it is no edit: the history does not record it.
    const now = get().doc;
    useScenes.setState({ doc: { ...now, scene: { ...now.scene, run: now.scene.run ?? scene.run, updatedAt: scene.updatedAt } }, savedRev: doc.rev, notice: `Saved “${scene.name}”.` });
    await loadSceneList();
  } catch (err) {
    useScenes.setState({ error: `The scene could not be saved: ${reasonOf(err)}` });
  } finally {
    useScenes.setState({ busy: false });
  }
}

export async function openSavedScene(id: string): Promise<void> {
  useScenes.setState({ busy: true, error: null });
  try {
    const scene = await getScene(id);
    if (!scene) throw new Error('it is no longer stored');
    const doc = D.newDoc(scene);
    useScenes.setState({ doc, activeLayerId: keepActive(scene, null), savedRev: doc.rev, view: FIT, notice: `Opened “${scene.name}”.` });
  } catch (err) {
    useScenes.setState({ error: `The scene could not be opened: ${reasonOf(err)}` });
  } finally {
    useScenes.setState({ busy: false });
  }
}

export async function deleteSavedScene(id: string): Promise<void> {
  try {
    await deleteScene(id);
    // The open scene stays open, as an unsaved one.
    if (get().doc.scene.id === id) useScenes.setState({ savedRev: null });
    await loadSceneList();
  } catch (err) {
    useScenes.setState({ error: `The scene could not be deleted: ${reasonOf(err)}` });
  }
}

/**
 * Opens the scene a gallery image was made from (scene-snapshot.ts says which way: the saved scene as
 * it is, a "(restored)" copy beside an edited one, or the deleted one again). The caller asks about
 * unsaved changes of the open scene first. Returns false when it could not be read.
 */
export async function restoreSceneSnapshot(snap: GallerySceneSnapshot): Promise<boolean> {
  useScenes.setState({ busy: true, error: null });
  try {
    const plan = planRestore(snap, await getScene(snap.record.id), () => newId('scene'), Date.now());
    const opened = D.newDoc(plan.scene);
    // 'same' opens as saved; a copy or a deleted scene is not stored yet, so it shows as unsaved (rev 1)
    const doc = plan.mode === 'same' ? opened : { ...opened, rev: 1 };
    useScenes.setState({ doc, activeLayerId: keepActive(plan.scene, null), savedRev: plan.mode === 'same' ? doc.rev : null, view: FIT });
    // the image's settings and seed (locked), as an edit the person sees and can undo
    if (plan.run) setSceneRun(plan.run);
    useSceneInit.setState(snap.init ? { use: true, strength: snap.init.strength } : { use: false });
    const name = plan.scene.name;
    const notice =
      plan.mode === 'same'
        ? `Opened “${name}” with the image's settings.`
        : plan.mode === 'copy'
          ? `“${snap.record.name}” was changed since this image, so the image's scene opened as “${name}” (not saved yet).`
          : `Restored “${name}” from the gallery image (not saved yet).`;
    useScenes.setState({ notice });
    return true;
  } catch (err) {
    useScenes.setState({ error: `The image's scene could not be restored: ${reasonOf(err)}` });
    return false;
  } finally {
    useScenes.setState({ busy: false });
  }
}
