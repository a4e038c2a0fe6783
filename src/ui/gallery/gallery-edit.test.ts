import { describe, expect, it } from 'vitest';
import { galleryEditOf, restoreEdit } from './gallery-edit';
import { useEdit } from '../generate/edit-store';
import { useGenerate } from '../generate/generate-store';
import type { GenerateParams } from '../../engine/protocol';
import type { GalleryRecord } from '../../storage/gallery/record';

const W = 6;
const H = 4;
const init = { width: W, height: H, rgba: Uint8ClampedArray.from({ length: W * H * 4 }, (_, i) => (i * 29) % 256) };
const base: GenerateParams = { prompt: 'p', negativePrompt: '', width: W, height: H, steps: 3, guidanceScale: 5, scheduler: 'euler', seed: 9 };
const record = (params: GenerateParams, edit: GalleryRecord['edit']): GalleryRecord => ({
  v: 2, id: 'img-1', createdAt: 0, modelId: 'm', dtype: 'f32', png: new Blob([]), params: { prompt: 'p', negativePrompt: '', steps: 3, scheduler: 'euler', guidanceScale: 5, seed: 9, width: params.width, height: params.height }, edit,
});

describe('an edited image in the gallery', () => {
  it('text to image has no edit', async () => {
    expect(await galleryEditOf(base)).toBeUndefined();
  });

  it('keeps init image and mask (as PNGs) with strength, blur and keep-outside; reuse restores them exactly', async () => {
    const data = Float32Array.from({ length: W * H }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const p: GenerateParams = { ...base, initImage: init, strength: 0.4, mask: { width: W, height: H, data }, maskBlur: 2, keepOutside: true };
    const edit = (await galleryEditOf(p))!;
    expect(edit).toMatchObject({ strength: 0.4, maskBlur: 2, keepOutside: true });
    expect(edit.init.type).toBe('image/png');
    await restoreEdit(record(p, edit));
    const s = useEdit.getState();
    expect(s.mode).toBe('inpaint');
    expect([...s.init!.rgba]).toEqual([...init.rgba]);
    expect([s.maskWidth, s.maskHeight]).toEqual([W, H]);
    expect([...s.mask!]).toEqual([...data].map((v) => v * 255));
    expect([s.strength, s.maskBlur, s.keepOutside]).toEqual([0.4, 2, true]);
    expect([useGenerate.getState().draft.width, useGenerate.getState().draft.height]).toEqual([W, H]);
  });

  it('outpainting: reuse restores the sides and the image size without the border', async () => {
    const p: GenerateParams = { ...base, width: W + 16, initImage: init, strength: 1, outpaint: [8, 0, 8, 0], maskBlur: 0, keepOutside: false };
    const edit = (await galleryEditOf(p))!;
    expect(edit).toMatchObject({ strength: 1, outpaint: [8, 0, 8, 0], maskBlur: 0, keepOutside: false });
    expect(edit.mask).toBeUndefined();
    await restoreEdit(record(p, edit));
    const s = useEdit.getState();
    expect([s.mode, s.outpaint, s.keepOutside, s.maskBlur]).toEqual(['outpaint', [8, 0, 8, 0], false, 0]);
    expect(useGenerate.getState().draft.width).toBe(W);
  });
});
