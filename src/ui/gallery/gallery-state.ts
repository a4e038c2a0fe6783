/**
 * The gallery in memory: the records from IndexedDB (newest first) with an object URL per PNG for
 * display. `addResult` turns a finished generation into a PNG with its parameters in a tEXt chunk and
 * stores it in one put, then shows it.
 */
import { create } from 'zustand';
import type { GenerateResult } from '../../engine/protocol';
import { deleteImage, deleteImages, listImages, putImage } from '../../storage/gallery/gallery-store';
import { newImageId, type GalleryRecord, type GallerySceneSnapshot } from '../../storage/gallery/record';
import { encodeResultPng } from '../../storage/png/result-png';
import { modelShortHash } from '../../storage/loras/model-hash';
import { galleryEditOf } from './gallery-edit';
import type { GalleryOrder } from './gallery-view';
import { reasonOf } from '../plain-error';

export interface GalleryItem {
  record: GalleryRecord;
  url: string;
}

export interface GalleryState {
  items: GalleryItem[];
  loaded: boolean;
  unreadable: string[];
  selectedId: string | null;
  error: string | null;
  /** The search box (prompt and negative prompt, see gallery-view.ts) and the grid's order. */
  query: string;
  order: GalleryOrder;
  /** Ticked tiles (multi-select), and the last one clicked without shift (a shift-click's other end). */
  checked: string[];
  anchorId: string | null;
  select(id: string | null): void;
}

export const useGallery = create<GalleryState>()((set) => ({
  items: [],
  loaded: false,
  unreadable: [],
  selectedId: null,
  error: null,
  query: '',
  order: 'newest',
  checked: [],
  anchorId: null,
  select: (selectedId) => set({ selectedId }),
}));

const toItem = (record: GalleryRecord): GalleryItem => ({ record, url: URL.createObjectURL(record.png) });

export async function loadGallery(): Promise<void> {
  try {
    const { images, unreadable } = await listImages();
    for (const it of useGallery.getState().items) URL.revokeObjectURL(it.url);
    useGallery.setState({ items: images.map(toItem), unreadable, loaded: true, error: null });
  } catch (err) {
    useGallery.setState({ loaded: true, error: `The gallery could not be read: ${reasonOf(err)}` });
  }
}

export { resultParameters } from '../../storage/png/result-png';

export async function addResult(r: GenerateResult, modelName: string, sceneId?: string, scene?: GallerySceneSnapshot): Promise<GalleryRecord> {
  // the same bytes as the command line writes (storage/png/result-png.ts)
  // A1111's "Model hash" (computed once per model, then cached; storage/loras/model-hash.ts); none if it cannot be read
  const modelHash = await modelShortHash(r.modelId).catch(() => null);
  const { png, params } = await encodeResultPng(r, modelName, modelHash);
  // an edit keeps its init image and mask in the same record (one put: both or neither)
  const edit = await galleryEditOf(r.params);
  const record: GalleryRecord = {
    v: 2,
    id: newImageId(),
    createdAt: Date.now(),
    params,
    modelId: r.modelId,
    dtype: r.dtype,
    ...(r.packedWeights ? { packedWeights: true } : {}),
    ...(r.f16Math ? { f16Math: true } : {}),
    timings: { totalMs: r.timings.totalMs },
    png: new Blob([png as Uint8Array<ArrayBuffer>], { type: 'image/png' }),
    ...(r.params.regions?.length
      ? { regions: r.params.regions.map((g) => ({ name: g.name ?? '', prompt: g.prompt, negativePrompt: g.negativePrompt, color: g.color ?? '' })) }
      : {}),
    ...(sceneId ? { sceneId } : {}),
    // the whole scene as it was run (scenes/scene-snapshot.ts), in the same put as the image
    ...(scene ? { scene } : {}),
    ...(edit ? { edit } : {}),
    ...(r.params.conceptStrength && Object.keys(r.params.conceptStrength).length ? { conceptStrength: { ...r.params.conceptStrength } } : {}),
  };
  try {
    await putImage(record);
  } catch (err) {
    useGallery.setState({ error: `The image could not be saved to the gallery: ${reasonOf(err)}` });
    throw err;
  }
  useGallery.setState((s) => ({ items: [toItem(record), ...s.items] }));
  return record;
}

export async function removeImage(id: string): Promise<void> {
  await deleteImage(id);
  useGallery.setState((s) => {
    const gone = s.items.find((i) => i.record.id === id);
    if (gone) URL.revokeObjectURL(gone.url);
    return { items: s.items.filter((i) => i.record.id !== id), checked: s.checked.filter((c) => c !== id), selectedId: s.selectedId === id ? null : s.selectedId };
  });
}

/** Deletes several images in one transaction (all or none), then drops them from the grid and the selection. */
export async function removeImages(ids: readonly string[]): Promise<void> {
  await deleteImages(ids);
  const gone = new Set(ids);
  useGallery.setState((s) => {
    for (const it of s.items) if (gone.has(it.record.id)) URL.revokeObjectURL(it.url);
    return {
      items: s.items.filter((i) => !gone.has(i.record.id)),
      checked: s.checked.filter((id) => !gone.has(id)),
      anchorId: s.anchorId !== null && gone.has(s.anchorId) ? null : s.anchorId,
      selectedId: s.selectedId !== null && gone.has(s.selectedId) ? null : s.selectedId,
    };
  });
}

/** A file name for a download: the prompt's first words and the seed. */
export function downloadName(r: GalleryRecord): string {
  const words = r.params.prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'image';
  return `${words}-${r.params.seed}.png`;
}
