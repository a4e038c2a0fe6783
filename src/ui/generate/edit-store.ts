/**
 * The Generate page's edit (issue 14): the init image, the mode (image to image, inpaint, outpaint),
 * strength, the painted mask and the outpainted sides. Kept in memory only (an init image is megabytes;
 * the settings store keeps the text draft), in its own store beside generate-store's draft.
 */
import { create } from 'zustand';
import type { RgbaImage } from '../../engine/protocol';
import { DEFAULT_MASK_BLUR, DEFAULT_STRENGTH } from '../../engine/edit-input';
import { editSize } from '../scenes/editor/scene';
import { resampleAlpha } from '../scenes/editor/raster';
import { useGenerate } from './generate-store';
import { initRunSize, maskFromAlpha, type EditMode, type EditSettings, type Sides } from './edit-params';

export interface EditState extends EditSettings {
  /** The init image's file name (or "gallery image"), for the panel. */
  initName: string;
  /** The init image has transparent pixels (its alpha can be taken as the mask). */
  hasAlpha: boolean;
  /** A refused file or a note about what was done, shown under the drop zone. */
  message: { kind: 'error' | 'note'; text: string } | null;
  /** Style strength of library concepts by name (GenerateParams.conceptStrength); absent: 1. Kept across edits. */
  conceptStrength: Record<string, number>;
}

const EMPTY: EditState = {
  init: null,
  initName: '',
  hasAlpha: false,
  mode: 'img2img',
  strength: DEFAULT_STRENGTH,
  mask: null,
  maskWidth: 0,
  maskHeight: 0,
  maskBlur: DEFAULT_MASK_BLUR,
  keepOutside: true,
  outpaint: [0, 0, 0, 0],
  message: null,
  conceptStrength: {},
};

export const useEdit = create<EditState>()(() => EMPTY);

export function setEdit(patch: Partial<EditState>): void {
  useEdit.setState(patch);
}

/** The mask raster's size for an init image (the scenes editor's editing resolution, ≤ 1024 a side). */
function maskSizeOf(img: { width: number; height: number }): { width: number; height: number } {
  const s = editSize(img.width, img.height);
  return { width: Math.max(1, s.width), height: Math.max(1, s.height) };
}

/**
 * Starts an edit from `image`: an empty mask at its editing size (or `keep`'s), and the Generate size
 * set to the image's own (snapped to the model's latent factor), so an image that fits is not resampled.
 */
export function setInitImage(image: RgbaImage, name: string, factor: number | null, keep: Partial<EditSettings> = {}): void {
  const m = maskSizeOf(image);
  const alpha = maskFromAlpha(image);
  useEdit.setState({
    ...EMPTY,
    strength: useEdit.getState().strength,
    conceptStrength: useEdit.getState().conceptStrength,
    init: image,
    initName: name,
    hasAlpha: alpha !== null,
    mask: new Uint8Array(m.width * m.height),
    maskWidth: m.width,
    maskHeight: m.height,
    ...keep,
  });
  // null: the caller sets the size (a gallery reuse restores the run's own)
  if (factor !== null) useGenerate.getState().setDraft(initRunSize(image.width, image.height, factor));
}

/** Takes the init image's transparency as the mask (transparent = repaint) and switches to inpaint. */
export function maskFromInitAlpha(): void {
  const s = useEdit.getState();
  const alpha = s.init && maskFromAlpha(s.init);
  if (!s.init || !alpha) return;
  useEdit.setState({ mode: 'inpaint', mask: resampleAlpha(alpha, s.init.width, s.init.height, s.maskWidth, s.maskHeight), message: { kind: 'note', text: 'The image’s transparent pixels are the mask.' } });
}

export function setMode(mode: EditMode): void {
  useEdit.setState({ mode });
}

export function setOutpaint(sides: Sides): void {
  useEdit.setState({ outpaint: sides });
}

/** Back to text to image (the strength is kept for the next init image). */
export function clearEdit(): void {
  useEdit.setState({ ...EMPTY, strength: useEdit.getState().strength, conceptStrength: useEdit.getState().conceptStrength });
}
