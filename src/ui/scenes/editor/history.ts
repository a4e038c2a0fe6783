/**
 * The editor's undo history: a bounded stack of reversible entries.
 *  - 'mask': one layer's pixels changed; only the dirty rect's bytes before and after are kept
 *    (raster.diffRect), so a small stroke on a 1 MiB mask costs a few KiB.
 *  - 'meta': anything else (layers added, removed, reordered, renamed, recoloured, prompts, global
 *    fields, size). Both sides are snapshots of the scene WITHOUT mask bytes, plus the masks that
 *    only one side can supply (a removed layer's, a resized scene's) — so a rename never pins 1 MiB.
 * The cap: at most `maxEntries` entries and `maxBytes` of mask bytes; the oldest go first.
 * Typing in a field makes one entry per keystroke; consecutive entries with the same `key` merge.
 */
import type { Layer, Scene } from './scene';
import type { Rect } from './raster';

export type LayerMeta = Omit<Layer, 'mask'>;

export interface MetaSnapshot {
  fields: Omit<Scene, 'layers' | 'id' | 'createdAt' | 'updatedAt'>;
  layers: LayerMeta[];
  /** Masks this side needs that the other side's scene does not have (by layer id). */
  masks: Record<string, Uint8Array>;
}

export type HistoryEntry =
  | { kind: 'mask'; label: string; layerId: string; rect: Rect; before: Uint8Array; after: Uint8Array }
  | { kind: 'meta'; label: string; key?: string; before: MetaSnapshot; after: MetaSnapshot };

export interface HistoryLimits {
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_LIMITS: HistoryLimits = { maxEntries: 100, maxBytes: 64 * 1024 * 1024 };

export interface History {
  undo: HistoryEntry[];
  redo: HistoryEntry[];
  /** Mask bytes held by `undo` (redo entries came from it, so they are bounded by the same cap). */
  bytes: number;
  limits: HistoryLimits;
}

export function emptyHistory(limits: HistoryLimits = DEFAULT_LIMITS): History {
  return { undo: [], redo: [], bytes: 0, limits };
}

export function entryBytes(e: HistoryEntry): number {
  if (e.kind === 'mask') return e.before.byteLength + e.after.byteLength;
  let n = 0;
  for (const m of Object.values(e.before.masks)) n += m.byteLength;
  for (const m of Object.values(e.after.masks)) n += m.byteLength;
  return n;
}

const hasMasks = (s: MetaSnapshot) => Object.keys(s.masks).length > 0;

/** Pushes an entry (clearing redo), merging with the top one when both carry the same key. */
export function pushEntry(h: History, e: HistoryEntry): History {
  const top = h.undo[h.undo.length - 1];
  if (e.kind === 'meta' && e.key && top?.kind === 'meta' && top.key === e.key && h.redo.length === 0 && !hasMasks(top.before) && !hasMasks(e.after)) {
    const merged: HistoryEntry = { ...top, after: e.after };
    // Typed and then deleted again: the merged entry changes nothing, so it goes.
    if (JSON.stringify([top.before.fields, top.before.layers]) === JSON.stringify([e.after.fields, e.after.layers])) return { ...h, undo: h.undo.slice(0, -1) };
    return { ...h, undo: [...h.undo.slice(0, -1), merged] };
  }
  const undo = [...h.undo, e];
  let bytes = h.bytes + entryBytes(e);
  // Keep at least the newest entry, even past the byte cap: an edit is always undoable once.
  while (undo.length > 1 && (undo.length > h.limits.maxEntries || bytes > h.limits.maxBytes)) bytes -= entryBytes(undo.shift()!);
  return { ...h, undo, redo: [], bytes };
}

/** The top entry to undo and the history without it (null when there is nothing to undo). */
export function popUndo(h: History): { entry: HistoryEntry; history: History } | null {
  const entry = h.undo[h.undo.length - 1];
  if (!entry) return null;
  return { entry, history: { ...h, undo: h.undo.slice(0, -1), redo: [...h.redo, entry], bytes: h.bytes - entryBytes(entry) } };
}

export function popRedo(h: History): { entry: HistoryEntry; history: History } | null {
  const entry = h.redo[h.redo.length - 1];
  if (!entry) return null;
  return { entry, history: { ...h, redo: h.redo.slice(0, -1), undo: [...h.undo, entry], bytes: h.bytes + entryBytes(entry) } };
}
