import { describe, expect, it } from 'vitest';
import { SDXL_BASE_UNET_CONFIG_JSON } from '../model/config';
import type { UNetConfigJson } from '../model/unet/arch';
import { checkImageSize } from './size-check';
import { ImageTooLargeError } from './errors';

const SDXL = SDXL_BASE_UNET_CONFIG_JSON as unknown as UNetConfigJson;
const MiB = 2 ** 20;

describe('image size check (SDXL-base memory plan)', () => {
  it('1024² with CFG fits a 128 MiB binding in f16', async () => {
    await expect(checkImageSize(SDXL, { width: 1024, height: 1024, batch: 2, dtype: 'f16', maxBindingBytes: 128 * MiB, latentFactor: 8 })).resolves.toBeUndefined();
  });
  it('refuses what does not fit and says what does', async () => {
    const err = await checkImageSize(SDXL, { width: 2048, height: 2048, batch: 2, dtype: 'f16', maxBindingBytes: 128 * MiB, latentFactor: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageTooLargeError);
    const e = err as ImageTooLargeError;
    expect(e.neededBytes).toBeGreaterThan(128 * MiB);
    expect(e.message).toMatch(/At 2048×2048 the model needs one GPU buffer of \d+ MiB, but this GPU allows 128 MiB per buffer/);
    expect(e.message).toMatch(/about \d+×\d+ or less/);
    // the suggested size really fits
    const side = Number(/about (\d+)×/.exec(e.message)![1]);
    await expect(checkImageSize(SDXL, { width: side, height: side, batch: 2, dtype: 'f16', maxBindingBytes: 128 * MiB, latentFactor: 8 })).resolves.toBeUndefined();
  });
  it('f32 at 1024² fits (the feed-forward runs in row chunks), packed weights too; 1536² in f32 does not and suggests f16', async () => {
    // f32 activations are the path of devices without shader-f16: the 160 MiB GEGLU projection is chunked
    // (unet/forward.ts feedForward), the largest binding is the 120 MiB up-block concat
    await expect(checkImageSize(SDXL, { width: 1024, height: 1024, batch: 2, dtype: 'f32', maxBindingBytes: 128 * MiB, latentFactor: 8 })).resolves.toBeUndefined();
    await expect(checkImageSize(SDXL, { width: 1024, height: 1024, batch: 2, dtype: 'f32', packedWeights: true, maxBindingBytes: 128 * MiB, latentFactor: 8 })).resolves.toBeUndefined();
    const err = (await checkImageSize(SDXL, { width: 1536, height: 1536, batch: 2, dtype: 'f32', maxBindingBytes: 128 * MiB, latentFactor: 8 }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ImageTooLargeError);
    expect(err.message).toContain('f16 precision');
  });
});
