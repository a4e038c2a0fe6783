import { describe, expect, it } from 'vitest';
import { decodeInitImage, pngHeaderSize } from './init-image-file';
import { EditInputError } from '../../engine/edit-input';
import { encodePng } from '../../storage/png/png';

const fileOf = (bytes: Uint8Array, type = 'image/png') => new Blob([bytes as Uint8Array<ArrayBuffer>], { type });

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(EditInputError);
  return err as EditInputError;
}

describe('init image files', () => {
  it('decodes an 8-bit PNG byte for byte (so the paste-back can return the very bytes)', async () => {
    const rgba = Uint8ClampedArray.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) % 256);
    const img = await decodeInitImage(fileOf(await encodePng(rgba, 5, 3)), 'a.png');
    expect([img.width, img.height]).toEqual([5, 3]);
    expect([...img.rgba]).toEqual([...rgba]);
  });

  it('refuses an 80 000 × 80 000 PNG from its header, before inflating anything', async () => {
    const png = await encodePng(new Uint8Array(4), 1, 1);
    const dv = new DataView(png.buffer, png.byteOffset);
    dv.setUint32(16, 80_000);
    dv.setUint32(20, 80_000);
    expect(pngHeaderSize(png)).toMatchObject({ width: 80_000, height: 80_000 });
    const e = await refusal(decodeInitImage(fileOf(png), 'bomb.png'));
    expect(e.code).toBe('init-too-large');
    expect(e.message).toContain('bomb.png is 80000×80000 pixels');
  });

  it('refuses what is not an image, and an image the browser cannot decode, by name', async () => {
    const text = await refusal(decodeInitImage(fileOf(new Uint8Array([1, 2, 3]), 'text/plain'), 'notes.txt'));
    expect(text.code).toBe('bad-init-image');
    expect(text.message).toContain('notes.txt is not an image');
    const broken = await refusal(decodeInitImage(fileOf(new Uint8Array([1, 2, 3]), 'image/jpeg'), 'broken.jpg'));
    expect(broken.code).toBe('bad-init-image');
    expect(broken.message).toContain('broken.jpg: this browser cannot decode it');
  });
});
