/**
 * The Teach tab's draft: the photos (decoded, each with its crop and optional mask), the refusals of
 * the last drop, the form, which photo is open for cropping / mask painting, and the start of a job.
 */
import { create } from 'zustand';
import { serializeError, type SerializedError } from '../../../gpu';
import { randomSeed } from '../../../diffusion/rng';
import { useStudio } from '../../store';
import { enqueueJob } from '../training/runner';
import { clampCrop, type Crop } from './crop';
import { decodePhotos, emptyMaskCount, jobPhotosOf, type RefusedFile, type TeachPhoto } from './photos';
import { captionTemplateOf, defaultTeachForm, effectiveSteps, MAX_PHOTOS, parsePlaceholders, validateTeach, type TeachContext, type TeachErrors, type TeachForm } from './validation';

export type MaskTool = 'brush' | 'eraser';

export interface TeachState {
  photos: TeachPhoto[];
  refused: RefusedFile[];
  /** A note about the last drop (e.g. the extra photos beyond the maximum). */
  dropNote: string | null;
  form: TeachForm;
  /** The photo open in the editor, and whether it edits the crop or the mask. */
  selectedId: string | null;
  mode: 'crop' | 'mask';
  maskTool: MaskTool;
  brushSize: number;
  /** Show every field's problem (after the first Start). */
  attempted: boolean;
  starting: boolean;
  startError: SerializedError | null;
  /** The job just queued (the page switches to Training). */
  startedJobId: string | null;
}

export const useTeach = create<TeachState>(() => ({
  photos: [],
  refused: [],
  dropNote: null,
  form: defaultTeachForm(512, randomSeed()),
  selectedId: null,
  mode: 'crop',
  maskTool: 'brush',
  brushSize: 48,
  attempted: false,
  starting: false,
  startError: null,
  startedJobId: null,
}));

export function setForm(patch: Partial<TeachForm>): void {
  useTeach.setState((s) => ({ form: { ...s.form, ...patch } }));
}

/** Adds the decodable photos of `files` (up to the maximum) and lists the refused ones by name. */
export async function addPhotos(files: readonly File[]): Promise<void> {
  const { photos, refused } = await decodePhotos(files);
  const have = useTeach.getState().photos;
  const room = Math.max(0, MAX_PHOTOS - have.length);
  const kept = photos.slice(0, room);
  for (const p of photos.slice(room)) p.bitmap.close();
  useTeach.setState({
    photos: [...have, ...kept],
    refused,
    dropNote: photos.length > room ? `${photos.length - room} photo${photos.length - room === 1 ? ' was' : 's were'} not added: a concept takes at most ${MAX_PHOTOS}.` : null,
    selectedId: useTeach.getState().selectedId ?? kept[0]?.id ?? null,
  });
}

export function removePhoto(id: string): void {
  const s = useTeach.getState();
  s.photos.find((p) => p.id === id)?.bitmap.close();
  const photos = s.photos.filter((p) => p.id !== id);
  useTeach.setState({ photos, selectedId: s.selectedId === id ? (photos[0]?.id ?? null) : s.selectedId });
}

export function updatePhoto(id: string, patch: Partial<Pick<TeachPhoto, 'crop' | 'mask'>>): void {
  useTeach.setState((s) => ({ photos: s.photos.map((p) => (p.id === id ? { ...p, ...patch, ...(patch.crop ? { crop: clampCrop(patch.crop, p.width, p.height) } : {}) } : p)) }));
}

export function setCrop(id: string, crop: Crop): void {
  updatePhoto(id, { crop });
}

/** The context of the form's checks: photos, empty masks, the placeholder words already in use, the sizes. */
export function teachContext(s: TeachState, taken: ReadonlySet<string>, resolutions: readonly number[]): TeachContext {
  return { photos: s.photos.length, emptyMasks: emptyMaskCount(s.photos), taken, resolutions };
}

/** Validates, stores the job (photos cropped at the training size) and queues it; false when the form has problems. */
export async function startTraining(taken: ReadonlySet<string>, resolutions: readonly number[]): Promise<boolean> {
  const s = useTeach.getState();
  useTeach.setState({ attempted: true, startError: null });
  const errors: TeachErrors = validateTeach(s.form, teachContext(s, taken, resolutions));
  if (Object.keys(errors).length) return false;
  const modelId = useStudio.getState().activeModelId;
  if (!modelId) {
    useTeach.setState({ startError: { name: 'NoModelLoadedError', code: 'no-model', message: 'No model is chosen. Import an SDXL model on the Models page and choose it; concepts are learned on that model.' } });
    return false;
  }
  useTeach.setState({ starting: true });
  try {
    const f = s.form;
    const photos = await jobPhotosOf(s.photos, f.resolution);
    const job = await enqueueJob(
      {
        name: f.name.trim(), classWord: f.classWord.trim(), placeholders: parsePlaceholders(f.placeholders), captionTemplate: captionTemplateOf(f),
        resolution: f.resolution, steps: effectiveSteps(f, s.photos.length), rank: f.rank, lrLora: f.lrLora, lrTokens: f.lrTokens, seed: f.seed,
        masked: f.masked, checkpointEvery: f.checkpointEvery, previewEvery: f.previewEvery,
      },
      photos,
      modelId,
    );
    for (const p of s.photos) p.bitmap.close();
    useTeach.setState({ photos: [], refused: [], dropNote: null, selectedId: null, attempted: false, startedJobId: job.id, form: { ...f, name: '', classWord: '', placeholders: '', steps: null, seed: randomSeed() } });
    return true;
  } catch (err) {
    useTeach.setState({ startError: serializeError(err) });
    return false;
  } finally {
    useTeach.setState({ starting: false });
  }
}
