/**
 * An edit request (GenerateParams' initImage, strength, mask, maskBlur, keepOutside, outpaint) turned
 * into what the sampling loop takes (diffusion/image-to-image.ts InitImage) before any GPU work: the
 * init image cropped and resized to the canvas (less the outpainted border), the mask fitted the same
 * way, the outpainted border added to the mask, then blurred. Every refusal is an EditInputError that
 * says what to change; what the engine adjusts on its own (a mask of another size, an empty mask) is
 * said in the notices, never silently.
 */
import { blurMask, strengthStartIndex } from '../diffusion/img2img';
import { fitImage, fitMask, outpaintCanvas, type Outpaint } from '../diffusion/edit-image';
import type { InitImage } from '../diffusion/image-to-image';
import type { GenerateParams } from './protocol';

export type EditInputErrorCode = 'init-too-large' | 'bad-init-image' | 'bad-mask' | 'bad-strength' | 'bad-outpaint';

export class EditInputError extends Error {
  override readonly name = 'EditInputError';
  constructor(
    readonly code: EditInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The largest init image taken (64 Mpx: an 8192² photo; the 80 000² of a decompression bomb is refused). */
export const MAX_INIT_PIXELS = 8192 * 8192;
/** A1111's default mask blur. */
export const DEFAULT_MASK_BLUR = 4;
export const DEFAULT_STRENGTH = 0.75;

export interface EditInput {
  init: InitImage;
  /** The canvas the loop starts from (the paste-back's source). */
  canvas: Uint8ClampedArray;
  /** The blurred mask at the canvas size when the output keeps the outside (paste-back), else null. */
  pasteMask: Float32Array | null;
  notices: string[];
}

function checkImage(what: string, width: number, height: number, values: number, perPixel: number, code: EditInputErrorCode): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new EditInputError(code, `The ${what} has no usable size (${width}×${height}).`);
  if (width * height > MAX_INIT_PIXELS) {
    throw new EditInputError('init-too-large', `The ${what} is ${width}×${height} pixels; the studio takes up to ${MAX_INIT_PIXELS / 2 ** 20} Mpx. Scale it down first.`);
  }
  if (values !== width * height * perPixel) throw new EditInputError(code, `The ${what} has ${values} values for ${width}×${height} pixels (expected ${width * height * perPixel}).`);
}

function outpaintOf(p: GenerateParams): Outpaint {
  const o = p.outpaint ?? [0, 0, 0, 0];
  if (o.length !== 4 || o.some((v) => !Number.isInteger(v) || v < 0)) throw new EditInputError('bad-outpaint', `Outpaint needs four whole numbers of pixels ≥ 0 (left, top, right, bottom), got ${o.join(',')}.`);
  if (p.width - o[0] - o[2] < 8 || p.height - o[1] - o[3] < 8) {
    throw new EditInputError('bad-outpaint', `Outpainting ${o.join(',')} leaves no room for the image on a ${p.width}×${p.height} canvas: make the canvas larger.`);
  }
  return o;
}

/** null when the request has no init image; else the loop's input, or a named refusal. */
export function editInput(p: GenerateParams): EditInput | null {
  if (!p.initImage) {
    if (p.mask || p.outpaint) throw new EditInputError('bad-init-image', 'A mask or outpainting needs an init image to edit.');
    return null;
  }
  // Regions on an init image (issue 14 point 5): the regional predictor only replaces the noise
  // estimate of each step; the start index, the noised start latent and the inpaint blend are the loop's
  // own (text-to-image.ts), so they apply to a regional run unchanged (edit-regions.gpu.test.ts checks it).
  const img = p.initImage;
  checkImage('init image', img.width, img.height, img.rgba.length, 4, 'bad-init-image');
  const strength = p.strength ?? DEFAULT_STRENGTH;
  if (!(strength >= 0 && strength <= 1)) throw new EditInputError('bad-strength', `The strength must be from 0 to 1, got ${strength}.`);
  strengthStartIndex(p.steps, strength);
  const o = outpaintOf(p);
  const inner = { width: p.width - o[0] - o[2], height: p.height - o[1] - o[3] };
  const notices: string[] = [];

  let innerMask: Float32Array | null = null;
  if (p.mask) {
    const m = p.mask;
    checkImage('mask', m.width, m.height, m.data.length, 1, 'bad-mask');
    if (m.data.some((v) => !(v >= 0 && v <= 1))) throw new EditInputError('bad-mask', 'The mask holds values outside 0..1.');
    let mask = m.data as Float32Array;
    if (m.width !== img.width || m.height !== img.height) {
      notices.push(`The mask is ${m.width}×${m.height}, the init image ${img.width}×${img.height}: the mask was resampled to the image.`);
      mask = fitMask(mask, m.width, m.height, img.width, img.height);
    }
    if (mask.every((v) => v === 0)) notices.push('The mask is empty: the run is plain image to image.');
    else innerMask = fitMask(mask, img.width, img.height, inner.width, inner.height);
  }
  const fitted = fitImage(img, inner.width, inner.height);
  const outpainting = o.some((v) => v > 0);
  const { image, mask } = outpainting ? outpaintCanvas(fitted, innerMask, o) : { image: fitted, mask: innerMask };
  const blurred = mask ? blurMask(mask, p.width, p.height, p.maskBlur ?? DEFAULT_MASK_BLUR) : null;
  if (p.keepOutside && !blurred) notices.push('Keep the outside has nothing to keep without a mask: the whole image was repainted.');
  return {
    init: { rgba: image.rgba, strength, ...(blurred ? { mask: blurred } : {}) },
    canvas: image.rgba,
    pasteMask: p.keepOutside && blurred ? blurred : null,
    notices,
  };
}
