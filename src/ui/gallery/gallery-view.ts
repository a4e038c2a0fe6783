/**
 * What the gallery grid shows and which tiles are ticked, as pure functions of the records: search by
 * prompt, sort by date, and the multi-select rules (toggle, shift-click range, select all shown).
 */
import type { GalleryRecord } from '../../storage/gallery/record';

export type GalleryOrder = 'newest' | 'oldest';

/**
 * Whether a record's prompt or negative prompt contains the query, ignoring case. The query is taken
 * as typed (no word splitting, no regular expressions: "(detailed:1.2)" finds exactly that); a query
 * of only spaces finds everything.
 */
export function matchesPrompt(r: GalleryRecord, query: string): boolean {
  if (query.trim() === '') return true;
  const q = query.toLowerCase();
  return r.params.prompt.toLowerCase().includes(q) || r.params.negativePrompt.toLowerCase().includes(q);
}

/** The records matching the query, newest or oldest first (equal times keep a fixed order by id). */
export function shownRecords<T extends { record: GalleryRecord }>(items: readonly T[], query: string, order: GalleryOrder): T[] {
  const sign = order === 'newest' ? -1 : 1;
  return items
    .filter((it) => matchesPrompt(it.record, query))
    .sort((a, b) => sign * (a.record.createdAt - b.record.createdAt) || (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
}

/** "3 of 12 images" while searching, "12 images" otherwise. */
export function shownCount(shown: number, total: number, searching: boolean): string {
  const noun = total === 1 ? 'image' : 'images';
  return searching ? `${shown} of ${total} ${noun}` : `${total} ${noun}`;
}

/**
 * A click on a tile's checkbox. Without shift it flips that tile. With shift and an earlier click
 * (the anchor) still shown, every tile between the two takes the clicked tile's new state, as in a
 * file manager. Returns the ticked ids in the order they are shown.
 */
export function clickSelection(selected: readonly string[], shownIds: readonly string[], id: string, anchor: string | null, shift: boolean): string[] {
  const set = new Set(selected);
  const on = !set.has(id);
  const from = shift && anchor !== null ? shownIds.indexOf(anchor) : -1;
  const to = shownIds.indexOf(id);
  const range = from >= 0 && to >= 0 ? shownIds.slice(Math.min(from, to), Math.max(from, to) + 1) : [id];
  for (const r of range) {
    if (on) set.add(r);
    else set.delete(r);
  }
  const shownSet = new Set(shownIds);
  // ticked tiles a search hides stay ticked, after the shown ones
  return shownIds.filter((s) => set.has(s)).concat([...set].filter((s) => !shownSet.has(s)));
}

/** Only the ticked ids that are still shown (a search hides tiles: what is hidden is never deleted or zipped unseen). */
export function keepShown(selected: readonly string[], shownIds: readonly string[]): string[] {
  const set = new Set(selected);
  return shownIds.filter((id) => set.has(id));
}
