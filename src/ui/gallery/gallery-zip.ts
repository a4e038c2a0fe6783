/**
 * "Download N as zip": the selected PNGs, bytes untouched (so each keeps its `parameters` text), in
 * one stored zip built in the browser (storage/zip), named as "Download PNG" names each file.
 */
import { uniqueNames, zipParts } from '../../storage/zip/zip-writer';
import type { GalleryRecord } from '../../storage/gallery/record';
import { downloadName } from './gallery-state';

export async function galleryZip(records: readonly GalleryRecord[]): Promise<Blob> {
  const names = uniqueNames(records.map(downloadName));
  const files = await Promise.all(records.map(async (r, i) => ({ name: names[i]!, data: new Uint8Array(await r.png.arrayBuffer()), modified: new Date(r.createdAt) })));
  return new Blob(zipParts(files) as Uint8Array<ArrayBuffer>[], { type: 'application/zip' });
}

/** "cidm-gallery-2-images-2026-12-05.zip" (the local date). */
export function zipFileName(count: number, now = new Date()): string {
  const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
  return `cidm-gallery-${count}-image${count === 1 ? '' : 's'}-${day}.zip`;
}

/** Hands a blob to the browser's download (the URL is released once the download has it). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
