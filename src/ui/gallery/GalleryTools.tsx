/**
 * The bar above the gallery grid: search by prompt with a count, the date order, "Select all shown",
 * and, while tiles are ticked, "Download N as zip" and "Delete N" (asked first, one transaction).
 */
import { useState } from 'react';
import { removeImages, useGallery, type GalleryItem } from './gallery-state';
import { keepShown, shownCount, type GalleryOrder } from './gallery-view';
import { galleryZip, saveBlob, zipFileName } from './gallery-zip';
import { ZipTooLargeError } from '../../storage/zip/zip-writer';

const plural = (n: number) => `${n} image${n === 1 ? '' : 's'}`;

/** What window.confirm says before a multi-delete: how many, which (a few prompts), and that it is final. */
export function deleteQuestion(items: readonly GalleryItem[]): string {
  const few = items.slice(0, 3).map((it) => `• ${excerpt(it.record.params.prompt)} (seed ${it.record.params.seed})`);
  const more = items.length > 3 ? [`… and ${items.length - 3} more`] : [];
  return [`Delete ${plural(items.length)} from the gallery?`, ...few, ...more, '', 'Their PNGs and parameters are removed from this browser. This cannot be undone.'].join('\n');
}

const excerpt = (prompt: string) => (prompt === '' ? '(no prompt)' : prompt.length > 60 ? `${prompt.slice(0, 59)}…` : prompt);

export function GalleryTools({ shown }: { shown: GalleryItem[] }) {
  const { items, query, order, checked } = useGallery();
  const [zipping, setZipping] = useState(false);
  const shownIds = shown.map((it) => it.record.id);
  const picked = keepShown(checked, shownIds);
  const pickedSet = new Set(picked);
  const pickedItems = shown.filter((it) => pickedSet.has(it.record.id));
  const n = picked.length;

  const setQuery = (q: string) => useGallery.setState({ query: q });
  const downloadZip = async () => {
    setZipping(true);
    try {
      saveBlob(await galleryZip(pickedItems.map((it) => it.record)), zipFileName(n));
    } catch (err) {
      console.error('Zip download failed', err);
      useGallery.setState({ error: err instanceof ZipTooLargeError ? err.message : 'The zip could not be made: an image could not be read from this browser’s storage. Reload the studio and try again.' });
    } finally {
      setZipping(false);
    }
  };
  const deletePicked = () => {
    if (!window.confirm(deleteQuestion(pickedItems))) return;
    void removeImages(picked).catch((err: unknown) => {
      console.error('Multi-delete failed', err);
      useGallery.setState({ error: 'The images could not be deleted; none were removed. Reload the studio and try again.' });
    });
  };

  return (
    <div className="gal-tools" data-testid="gal-tools">
      <div className="gal-tools-row">
        <input
          type="search"
          className="gal-search"
          placeholder="Search prompts"
          aria-label="Search prompts and negative prompts"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && query !== '') {
              e.preventDefault();
              setQuery('');
            }
          }}
          data-testid="gal-search"
        />
        <span className="gal-count small muted" aria-live="polite" data-testid="gal-count">
          {shownCount(shown.length, items.length, query.trim() !== '')}
        </span>
        <label className="gal-order small">
          <span className="muted">Sort</span>
          <select value={order} onChange={(e) => useGallery.setState({ order: e.target.value as GalleryOrder })} data-testid="gal-order">
            <option value="newest">Newest first</option>
            <option value="oldest">Oldest first</option>
          </select>
        </label>
        <button
          type="button"
          className="btn"
          disabled={shown.length === 0 || n === shown.length}
          onClick={() => useGallery.setState((s) => ({ checked: [...new Set([...s.checked, ...shownIds])] }))}
          data-testid="gal-select-all"
        >
          Select all shown
        </button>
      </div>
      {n > 0 && (
        <div className="gal-tools-row gal-selection" role="region" aria-label="Selected images" data-testid="gal-selection">
          <strong data-testid="gal-selected-count">{n} selected</strong>
          <button type="button" className="btn" disabled={zipping} onClick={() => void downloadZip()} data-testid="gal-zip">
            {zipping ? 'Making the zip…' : `Download ${n} as zip`}
          </button>
          <button type="button" className="btn gal-danger" onClick={deletePicked} data-testid="gal-delete-selected">
            Delete {n}
          </button>
          <button type="button" className="btn" onClick={() => useGallery.setState({ checked: [], anchorId: null })} data-testid="gal-select-none">
            Clear selection
          </button>
        </div>
      )}
    </div>
  );
}
