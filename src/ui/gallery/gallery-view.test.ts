import { describe, expect, it } from 'vitest';
import type { GalleryRecord } from '../../storage/gallery/record';
import { clickSelection, keepShown, matchesPrompt, shownCount, shownRecords } from './gallery-view';

function item(id: string, createdAt: number, prompt: string, negativePrompt = '') {
  const record = { v: 2, id, createdAt, params: { prompt, negativePrompt } } as unknown as GalleryRecord;
  return { record, url: `blob:${id}` };
}

const items = [item('b', 200, 'A red FOX in the snow', 'blurry'), item('a', 100, 'a cat, (detailed:1.2)'), item('c', 300, 'a castle', 'Fox, lowres'), item('d', 200, 'fog')];

describe('gallery search and sort', () => {
  it('finds the query in the prompt or the negative prompt, ignoring case, as typed', () => {
    expect(shownRecords(items, 'fox', 'newest').map((i) => i.record.id)).toEqual(['c', 'b']);
    expect(shownRecords(items, '(detailed:1.2)', 'newest').map((i) => i.record.id)).toEqual(['a']);
    expect(shownRecords(items, 'red fox', 'newest').map((i) => i.record.id)).toEqual(['b']);
    expect(shownRecords(items, 'fox red', 'newest')).toEqual([]); // not word-by-word
    expect(matchesPrompt(items[0]!.record, '   ')).toBe(true);
  });

  it('sorts newest or oldest first; equal times keep one order', () => {
    expect(shownRecords(items, '', 'newest').map((i) => i.record.id)).toEqual(['c', 'b', 'd', 'a']);
    expect(shownRecords(items, '', 'oldest').map((i) => i.record.id)).toEqual(['a', 'b', 'd', 'c']);
    expect(items.map((i) => i.record.id)).toEqual(['b', 'a', 'c', 'd']); // the input is not reordered
  });

  it('says how many are shown', () => {
    expect(shownCount(3, 12, true)).toBe('3 of 12 images');
    expect(shownCount(12, 12, false)).toBe('12 images');
    expect(shownCount(0, 1, true)).toBe('0 of 1 image');
  });
});

describe('gallery selection', () => {
  const shown = ['c', 'b', 'd', 'a'];
  it('a click flips one tile', () => {
    expect(clickSelection([], shown, 'd', null, false)).toEqual(['d']);
    expect(clickSelection(['d', 'b'], shown, 'd', 'b', false)).toEqual(['b']);
  });
  it('shift-click gives the whole range the clicked tile’s new state, either direction', () => {
    expect(clickSelection(['c'], shown, 'a', 'c', true)).toEqual(['c', 'b', 'd', 'a']);
    expect(clickSelection(['a'], shown, 'b', 'a', true)).toEqual(['b', 'd', 'a']);
    expect(clickSelection(['c', 'b', 'd', 'a'], shown, 'b', 'a', true)).toEqual(['c']);
  });
  it('shift-click without an anchor on screen flips one tile', () => {
    expect(clickSelection([], shown, 'b', 'gone', true)).toEqual(['b']);
    expect(clickSelection([], shown, 'b', null, true)).toEqual(['b']);
  });
  it('a tile hidden by the search stays ticked (after the shown ones)', () => {
    expect(clickSelection(['x'], shown, 'b', null, false)).toEqual(['b', 'x']);
  });
  it('keeps only what is shown', () => {
    expect(keepShown(['a', 'x', 'c'], shown)).toEqual(['c', 'a']);
  });
});
