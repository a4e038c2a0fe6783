/**
 * The editor document: a scene plus its undo history. Every operation is a pure function from a
 * document to a new one (the scene, its layers array and any changed mask are new objects; nothing
 * is written in place), and records exactly one history entry — or none when it changes nothing.
 */
import { createLayer, editSize, type Layer, type Scene } from './scene';
import { diffRect, extractRect, filledMask, invertMask, resampleAlpha, withRect } from './raster';
import { emptyHistory, popRedo, popUndo, pushEntry, type History, type HistoryEntry, type HistoryLimits, type LayerMeta, type MetaSnapshot } from './history';
import type { ActionKind } from './tools';

export interface EditorDoc {
  scene: Scene;
  history: History;
  /** Bumped by every change, undo and redo (for "unsaved changes"). */
  rev: number;
}

export function newDoc(scene: Scene, limits?: HistoryLimits): EditorDoc {
  return { scene, history: emptyHistory(limits), rev: 0 };
}

export function findLayer(scene: Scene, id: string): Layer | undefined {
  return scene.layers.find((l) => l.id === id);
}

function withLayerMask(scene: Scene, id: string, mask: Uint8Array): Scene {
  return { ...scene, layers: scene.layers.map((l) => (l.id === id ? { ...l, mask } : l)) };
}

/** Replaces a layer's mask; the history keeps only the changed rect. */
export function setMask(doc: EditorDoc, layerId: string, mask: Uint8Array, label: string): EditorDoc {
  const s = doc.scene;
  const layer = findLayer(s, layerId);
  if (!layer) throw new RangeError(`no layer ${layerId}`);
  const rect = diffRect(layer.mask, mask, s.maskWidth, s.maskHeight);
  if (!rect) return doc;
  const entry: HistoryEntry = { kind: 'mask', label, layerId, rect, before: extractRect(layer.mask, s.maskWidth, rect), after: extractRect(mask, s.maskWidth, rect) };
  return { scene: withLayerMask(s, layerId, mask), history: pushEntry(doc.history, entry), rev: doc.rev + 1 };
}

export const ACTION_LABELS: Record<ActionKind, string> = { fill: 'Fill layer', clear: 'Clear layer', invert: 'Invert layer' };

export function maskAction(doc: EditorDoc, layerId: string, action: ActionKind): EditorDoc {
  const layer = findLayer(doc.scene, layerId);
  if (!layer) throw new RangeError(`no layer ${layerId}`);
  const n = layer.mask.length;
  const mask = action === 'invert' ? invertMask(layer.mask) : filledMask(n, action === 'fill' ? 255 : 0);
  return setMask(doc, layerId, mask, ACTION_LABELS[action]);
}

function metaOf(l: Layer): LayerMeta {
  const { mask: _mask, ...meta } = l;
  return { ...meta, concepts: [...meta.concepts] };
}

/** `s` without mask bytes, plus the masks `other` cannot supply (absent there, or a different buffer). */
function snapshot(s: Scene, other: Scene): MetaSnapshot {
  const otherMasks = new Map(other.layers.map((l) => [l.id, l.mask]));
  const masks: Record<string, Uint8Array> = {};
  for (const l of s.layers) if (otherMasks.get(l.id) !== l.mask) masks[l.id] = l.mask;
  const fields: MetaSnapshot['fields'] = {
    name: s.name,
    width: s.width,
    height: s.height,
    maskWidth: s.maskWidth,
    maskHeight: s.maskHeight,
    globalPrompt: s.globalPrompt,
    globalNegative: s.globalNegative,
    referenceImageId: s.referenceImageId,
    run: s.run,
  };
  return { fields, layers: s.layers.map(metaOf), masks };
}

function applySnapshot(current: Scene, snap: MetaSnapshot): Scene {
  const masks = new Map(current.layers.map((l) => [l.id, l.mask]));
  const layers = snap.layers.map((m) => {
    const mask = snap.masks[m.id] ?? masks.get(m.id);
    if (!mask) throw new Error(`history: no mask for layer ${m.id}`);
    return { ...m, concepts: [...m.concepts], mask };
  });
  return { ...current, ...snap.fields, layers };
}

const sameMeta = (a: MetaSnapshot, b: MetaSnapshot) =>
  Object.keys(a.masks).length === 0 && Object.keys(b.masks).length === 0 && JSON.stringify([a.fields, a.layers]) === JSON.stringify([b.fields, b.layers]);

/** Any change other than mask pixels: `fn` returns the new scene (masks it keeps must keep their buffers). */
export function editScene(doc: EditorDoc, label: string, fn: (s: Scene) => Scene, key?: string): EditorDoc {
  const next = fn(doc.scene);
  const before = snapshot(doc.scene, next);
  const after = snapshot(next, doc.scene);
  if (sameMeta(before, after)) return doc;
  const entry: HistoryEntry = key ? { kind: 'meta', label, key, before, after } : { kind: 'meta', label, before, after };
  return { scene: next, history: pushEntry(doc.history, entry), rev: doc.rev + 1 };
}

/** A new empty layer above `aboveId` (or on top); returns its id. */
export function addLayer(doc: EditorDoc, aboveId?: string, init: Partial<Layer> = {}): { doc: EditorDoc; layerId: string } {
  const layer = createLayer(doc.scene, init);
  const d = editScene(doc, 'Add layer', (s) => {
    const at = aboveId ? s.layers.findIndex((l) => l.id === aboveId) + 1 : s.layers.length;
    const layers = [...s.layers];
    layers.splice(at <= 0 ? s.layers.length : at, 0, layer);
    return { ...s, layers };
  });
  return { doc: d, layerId: layer.id };
}

export function removeLayer(doc: EditorDoc, id: string): EditorDoc {
  return editScene(doc, 'Delete layer', (s) => ({ ...s, layers: s.layers.filter((l) => l.id !== id) }));
}

/** Moves a layer `delta` places toward the top (+) or the bottom (−), clamped. */
export function moveLayer(doc: EditorDoc, id: string, delta: number): EditorDoc {
  return editScene(doc, delta > 0 ? 'Move layer up' : 'Move layer down', (s) => {
    const i = s.layers.findIndex((l) => l.id === id);
    if (i < 0) return s;
    const j = Math.min(s.layers.length - 1, Math.max(0, i + delta));
    const layers = [...s.layers];
    const [l] = layers.splice(i, 1);
    layers.splice(j, 0, l!);
    return { ...s, layers };
  });
}

const FIELD_LABELS: Record<string, string> = { name: 'Rename', prompt: 'Edit prompt', negativePrompt: 'Edit negative prompt', color: 'Change colour', visible: 'Show/hide', opacity: 'Change opacity' };

/** Fields edited continuously (typing, dragging a slider or a colour): consecutive edits merge. */
const MERGED_FIELDS = new Set(['name', 'prompt', 'negativePrompt', 'color', 'opacity']);

/** Edits layer fields; consecutive edits of the same text/slider field of the same layer merge into one entry. */
export function updateLayer(doc: EditorDoc, id: string, patch: Partial<LayerMeta>): EditorDoc {
  const fields = Object.keys(patch).sort();
  const label = `${FIELD_LABELS[fields[0] ?? ''] ?? 'Edit layer'}`;
  const key = fields.every((f) => MERGED_FIELDS.has(f)) ? `layer:${id}:${fields.join(',')}` : undefined;
  return editScene(doc, label, (s) => ({ ...s, layers: s.layers.map((l) => (l.id === id ? { ...l, ...patch, id: l.id } : l)) }), key);
}

export type SceneFields = Pick<Scene, 'name' | 'globalPrompt' | 'globalNegative' | 'referenceImageId' | 'run'>;

export function setSceneFields(doc: EditorDoc, patch: Partial<SceneFields>): EditorDoc {
  const fields = Object.keys(patch).sort();
  const ref = fields.includes('referenceImageId');
  return editScene(doc, ref ? 'Reference image' : 'Edit scene', (s) => ({ ...s, ...patch }), ref ? undefined : `scene:${fields.join(',')}`);
}

/** A new output size; every mask is resampled (bilinear) to the new editing size, stretched if the aspect changes. */
export function resizeScene(doc: EditorDoc, width: number, height: number): EditorDoc {
  if (width % 8 !== 0 || height % 8 !== 0 || width <= 0 || height <= 0) throw new RangeError(`scene size ${width}×${height}: both sides must be positive multiples of 8`);
  return editScene(doc, 'Resize scene', (s) => {
    if (s.width === width && s.height === height) return s;
    const m = editSize(width, height);
    const same = m.width === s.maskWidth && m.height === s.maskHeight;
    const layers = same ? s.layers : s.layers.map((l) => ({ ...l, mask: resampleAlpha(l.mask, s.maskWidth, s.maskHeight, m.width, m.height) }));
    return { ...s, width, height, maskWidth: m.width, maskHeight: m.height, layers };
  });
}

function applyEntry(scene: Scene, e: HistoryEntry, side: 'before' | 'after'): Scene {
  if (e.kind === 'meta') return applySnapshot(scene, e[side]);
  const layer = findLayer(scene, e.layerId);
  if (!layer) throw new Error(`history: no layer ${e.layerId}`);
  return withLayerMask(scene, e.layerId, withRect(layer.mask, scene.maskWidth, e.rect, e[side]));
}

export const canUndo = (doc: EditorDoc) => doc.history.undo.length > 0;
export const canRedo = (doc: EditorDoc) => doc.history.redo.length > 0;

export function undo(doc: EditorDoc): EditorDoc {
  const p = popUndo(doc.history);
  return p ? { scene: applyEntry(doc.scene, p.entry, 'before'), history: p.history, rev: doc.rev + 1 } : doc;
}

export function redo(doc: EditorDoc): EditorDoc {
  const p = popRedo(doc.history);
  return p ? { scene: applyEntry(doc.scene, p.entry, 'after'), history: p.history, rev: doc.rev + 1 } : doc;
}
