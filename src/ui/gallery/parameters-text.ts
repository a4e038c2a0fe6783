/**
 * The A1111 `parameters` text of a gallery image, exactly as its PNG carries it (what "Copy all"
 * copies, and what A1111's PNG Info shows). A PNG without one (a record from the first studio) gets
 * the text the studio writes for the same parameters.
 */
import { readPngText } from '../../storage/png/png';
import { formatParameters } from '../../storage/png/parameters';
import type { GalleryRecord } from '../../storage/gallery/record';

export async function parametersText(r: GalleryRecord): Promise<string> {
  try {
    const text = readPngText(new Uint8Array(await r.png.arrayBuffer())).parameters;
    if (text !== undefined) return text;
  } catch (err) {
    console.warn('The PNG text of a gallery image could not be read', err);
  }
  return formatParameters(r.params);
}
