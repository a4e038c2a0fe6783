/** An edit request checked and fitted before any GPU work (edit-input.ts): refusals by name, notices, the canvas. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MASK_BLUR, editInput, EditInputError, MAX_INIT_PIXELS } from './edit-input';
import type { GenerateParams } from './protocol';

const img = (w: number, h: number) => ({ width: w, height: h, rgba: new Uint8ClampedArray(w * h * 4).fill(200) });
const base: GenerateParams = { prompt: 'p', negativePrompt: '', width: 16, height: 16, steps: 4, guidanceScale: 5, scheduler: 'euler', seed: 1 };
const code = (p: Partial<GenerateParams>) => {
  try {
    editInput({ ...base, ...p });
  } catch (err) {
    expect(err).toBeInstanceOf(EditInputError);
    return (err as EditInputError).code;
  }
  return 'accepted';
};

describe('editInput', () => {
  it('no init image: no edit; a mask or outpainting alone is refused', () => {
    expect(editInput(base)).toBeNull();
    expect(code({ mask: { width: 16, height: 16, data: new Float32Array(256) } })).toBe('bad-init-image');
    expect(code({ outpaint: [8, 0, 0, 0] })).toBe('bad-init-image');
  });

  it('refuses a huge image (a decompression bomb), a wrong byte count, a bad strength or outpaint; takes regions', () => {
    const huge = { width: 80_000, height: 80_000, rgba: new Uint8ClampedArray(4) };
    expect(80_000 * 80_000).toBeGreaterThan(MAX_INIT_PIXELS);
    expect(code({ initImage: huge })).toBe('init-too-large');
    expect(code({ initImage: { width: 4, height: 4, rgba: new Uint8ClampedArray(10) } })).toBe('bad-init-image');
    expect(code({ initImage: img(16, 16), strength: 1.2 })).toBe('bad-strength');
    expect(code({ initImage: img(16, 16), outpaint: [4, 0, 8, -1] })).toBe('bad-outpaint');
    expect(code({ initImage: img(16, 16), outpaint: [8, 0, 4, 0] })).toBe('bad-outpaint'); // 4 px left for the image
    expect(code({ initImage: img(16, 16), mask: { width: 16, height: 16, data: new Float32Array(256).fill(2) } })).toBe('bad-mask');
    // regions on an init image are taken (the loop's edit rules apply to the regional path too)
    expect(editInput({ ...base, initImage: img(16, 16), regions: [{ prompt: 'a', negativePrompt: '', mask: new Float32Array(256) }] })).not.toBeNull();
  });

  it('fits the image to the run size; default strength 0.75; no mask: no paste-back', () => {
    const e = editInput({ ...base, initImage: img(32, 32), keepOutside: true })!;
    expect(e.init.rgba.length).toBe(16 * 16 * 4);
    expect(e.init.strength).toBe(0.75);
    expect(e.init.mask).toBeUndefined();
    expect(e.pasteMask).toBeNull();
    expect(e.notices).toEqual(['Keep the outside has nothing to keep without a mask: the whole image was repainted.']);
  });

  it('a mask of another size is resampled and said; an empty mask is plain image to image, said', () => {
    const big = new Float32Array(32 * 32).fill(1);
    const e = editInput({ ...base, initImage: img(16, 16), mask: { width: 32, height: 32, data: big }, maskBlur: 0, keepOutside: true })!;
    expect(e.notices).toEqual(['The mask is 32×32, the init image 16×16: the mask was resampled to the image.']);
    expect(Array.from(e.init.mask!)).toEqual(new Array(256).fill(1));
    expect(e.pasteMask).toBe(e.init.mask);
    const empty = editInput({ ...base, initImage: img(16, 16), mask: { width: 16, height: 16, data: new Float32Array(256) } })!;
    expect(empty.notices).toEqual(['The mask is empty: the run is plain image to image.']);
    expect(empty.init.mask).toBeUndefined();
  });

  it('outpainting: the image in the inner rectangle, the border is the mask, then the default blur', () => {
    const e = editInput({ ...base, width: 32, initImage: img(24, 16), outpaint: [0, 0, 8, 0], keepOutside: true })!;
    const m = e.init.mask!;
    expect(m.length).toBe(32 * 16);
    expect(m[11]).toBe(0); // 13 px from the border: beyond the blur's 3σ = 12
    expect(m[12]).toBeGreaterThan(0); // 12 px: reached
    expect(m[31]).toBeGreaterThan(0.95); // the blur softens even the far edge a little (edges clamped)
    expect(DEFAULT_MASK_BLUR).toBe(4);
    const sharp = editInput({ ...base, initImage: img(8, 16), outpaint: [0, 0, 8, 0], maskBlur: 0 })!;
    expect(Array.from(sharp.init.mask!.subarray(0, 16))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  });
});
