/**
 * An edited image's input in the gallery (issue 14 point 7): the init image and mask as PNGs inside
 * the same record as the result (one IndexedDB put, so both or neither are stored), and "Reuse" /
 * "Send to edit" putting them back into the Generate page's edit panel.
 */
import type { GenerateParams, RgbaImage } from '../../engine/protocol';
import { DEFAULT_STRENGTH } from '../../engine/edit-input';
import type { GalleryEdit, GalleryRecord } from '../../storage/gallery/record';
import { decodePng, encodePng } from '../../storage/png/png';
import { resampleAlpha } from '../scenes/editor/raster';
import { setInitImage, useEdit } from '../generate/edit-store';
import { useGenerate } from '../generate/generate-store';

const pngBlob = (bytes: Uint8Array) => new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' });

/** The edit fields of a run's parameters as a record's `edit` (undefined: not an edit). */
export async function galleryEditOf(p: GenerateParams): Promise<GalleryEdit | undefined> {
  const init = p.initImage;
  if (!init) return undefined;
  const edit: GalleryEdit = { init: pngBlob(await encodePng(init.rgba, init.width, init.height)), strength: p.strength ?? DEFAULT_STRENGTH };
  if (p.mask) {
    const m = p.mask;
    const grey = new Uint8ClampedArray(m.width * m.height * 4);
    for (let i = 0; i < m.data.length; i++) {
      const v = Math.round(m.data[i]! * 255);
      grey[i * 4] = grey[i * 4 + 1] = grey[i * 4 + 2] = v;
      grey[i * 4 + 3] = 255;
    }
    edit.mask = pngBlob(await encodePng(grey, m.width, m.height));
  }
  if (p.mask || p.outpaint) {
    if (p.maskBlur !== undefined) edit.maskBlur = p.maskBlur;
    edit.keepOutside = p.keepOutside === true;
  }
  if (p.outpaint?.some((v) => v > 0)) edit.outpaint = [...p.outpaint];
  return edit;
}

async function readPng(blob: Blob): Promise<RgbaImage> {
  const png = await decodePng(new Uint8Array(await blob.arrayBuffer()));
  return { width: png.width, height: png.height, rgba: new Uint8ClampedArray(png.rgba) };
}

/**
 * Puts a record's edit back into the edit panel: init image, mask (inpaint), outpaint sides, strength,
 * blur and keep-outside, and the run's image size (the canvas less the outpainted border).
 */
export async function restoreEdit(record: GalleryRecord): Promise<void> {
  const e = record.edit;
  if (!e) return;
  const init = await readPng(e.init);
  setInitImage(init, 'gallery image', null, { strength: e.strength, ...(e.maskBlur !== undefined ? { maskBlur: e.maskBlur } : {}), keepOutside: e.keepOutside ?? true });
  const s = useEdit.getState();
  if (e.mask) {
    const m = await readPng(e.mask);
    const grey = new Uint8Array(m.width * m.height);
    for (let i = 0; i < grey.length; i++) grey[i] = m.rgba[i * 4]!;
    useEdit.setState({ mode: 'inpaint', mask: resampleAlpha(grey, m.width, m.height, s.maskWidth, s.maskHeight) });
  } else if (e.outpaint) useEdit.setState({ mode: 'outpaint', outpaint: [...e.outpaint] });
  const [l, t, r, b] = e.outpaint ?? [0, 0, 0, 0];
  useGenerate.getState().setDraft({ width: record.params.width - l - r, height: record.params.height - t - b });
}

/** "Send to edit": the record's image becomes the init image (image to image at the current strength). */
export async function sendToEdit(record: GalleryRecord): Promise<void> {
  const image = await readPng(record.png);
  setInitImage(image, `gallery image (seed ${record.params.seed})`, null);
  useGenerate.getState().setDraft({ width: image.width, height: image.height });
}
