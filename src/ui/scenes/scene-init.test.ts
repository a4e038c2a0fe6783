import { describe, expect, it } from 'vitest';
import { SceneReferenceMissingError, sceneInitParams } from './scene-init';
import { encodePng } from '../../storage/png/png';
import type { GalleryRecord } from '../../storage/gallery/record';

describe('a scene’s reference image as the init image', () => {
  it('off, or no reference: nothing is added (text to image with regions)', async () => {
    expect(await sceneInitParams('img-1', { use: false, strength: 0.5 }, async () => undefined)).toEqual({});
    expect(await sceneInitParams(undefined, { use: true, strength: 0.5 }, async () => undefined)).toEqual({});
  });

  it('on: the gallery image’s pixels and the strength', async () => {
    const rgba = Uint8ClampedArray.from({ length: 3 * 2 * 4 }, (_, i) => (i * 41) % 256);
    const png = new Blob([(await encodePng(rgba, 3, 2)) as Uint8Array<ArrayBuffer>], { type: 'image/png' });
    const p = await sceneInitParams('img-1', { use: true, strength: 0.35 }, async (id) => (id === 'img-1' ? ({ png } as GalleryRecord) : undefined));
    expect(p.strength).toBe(0.35);
    expect([p.initImage!.width, p.initImage!.height]).toEqual([3, 2]);
    expect([...p.initImage!.rgba]).toEqual([...rgba]);
  });

  it('a reference deleted from the gallery is refused by name', async () => {
    await expect(sceneInitParams('gone', { use: true, strength: 0.5 }, async () => undefined)).rejects.toBeInstanceOf(SceneReferenceMissingError);
  });
});
