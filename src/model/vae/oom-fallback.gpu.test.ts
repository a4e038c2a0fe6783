// A whole or banded VAE decode or encode that runs out of GPU memory falls back to approximate tiles
// (tiled.ts withTileFallback) instead of failing the image; any other error passes through.
// The device's out-of-memory report is injected while the whole decode runs (a CPU adapter cannot be
// made to run out); what follows is the real fallback on the tiny golden VAE.
import { describe, expect, it, vi } from 'vitest';
import { testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { randomArray } from '../../../tests/numeric';
import { GpuValidationError } from '../../gpu/errors';
import { roundToF16 } from '../../gpu/f16';
import { loadGoldenVae } from './golden-vae.fixture';
import { planFor, vaeDecodeAuto, vaeDecodeAutoHost, vaeDecodeTiledHost, vaeEncodeAuto } from './tiled';

describe(`VAE decode out-of-memory fallback on ${TEST_ADAPTER}`, () => {
  it('decodes and encodes in tiles after the whole run runs out of memory (host and GPU decode, encode); other errors pass through', async () => {
    const ctx = await testContext();
    const vae = await loadGoldenVae(ctx);
    const [h, w] = [12, 14];
    const z = ctx.upload(randomArray(4 * h * w, 11, -2, 2), [1, 4, h, w], vae.dtype, 'z');
    const o = { overlap: 3 };
    expect((await planFor(ctx, vae, 'decode', 1, h, w, o)).mode).toBe('whole');
    // the fallback's first try: tiles of half the latent per side
    const grid = (await planFor(ctx, vae, 'decode', 1, h, w, { ...o, tile: { height: 6, width: 7 } })).grid;
    const want = await vaeDecodeTiledHost(ctx, vae, { data: await ctx.read(z), shape: [1, 4, h, w] }, grid, o);

    // the device reports running out of memory during the first wait on the whole decode
    const injectOnFirst = (method: 'read' | 'flush', kind: 'out-of-memory' | 'validation') => {
      let calls = 0;
      const original = ctx[method].bind(ctx) as (...a: unknown[]) => Promise<unknown>;
      return vi.spyOn(ctx, method).mockImplementation(((...a: unknown[]) => {
        if (calls++ === 0) ctx.deviceErrors.record({ kind, message: 'injected' });
        return original(...a);
      }) as never);
    };

    let tiles = 0;
    let spy = injectOnFirst('read', 'out-of-memory');
    const host = await vaeDecodeAutoHost(ctx, vae, z, { ...o, onOutOfMemory: (n) => (tiles = n) });
    spy.mockRestore();
    expect(tiles).toBe(grid.rows.length * grid.cols.length);
    expect(tiles).toBeGreaterThan(1);
    expect(host.shape).toEqual([1, 3, 8 * h, 8 * w]);
    expect(Array.from(host.data)).toEqual(Array.from(want.data));

    tiles = 0;
    spy = injectOnFirst('flush', 'out-of-memory');
    const gpu = await vaeDecodeAuto(ctx, vae, z, { ...o, onOutOfMemory: (n) => (tiles = n) });
    spy.mockRestore();
    expect(tiles).toBe(grid.rows.length * grid.cols.length);
    const got = await ctx.read(gpu);
    ctx.release(gpu);
    // uploaded in the VAE's dtype, so f16 storage rounds the blended tiles once
    expect(Array.from(got)).toEqual(Array.from(vae.dtype === 'f16' ? roundToF16(want.data) : want.data));

    // the encode (image to image) falls back the same way, in moment space
    const image = { data: randomArray(3 * 8 * h * 8 * w, 12, -1, 1), shape: [1, 3, 8 * h, 8 * w] };
    const wantEnc = await vaeEncodeAuto(ctx, vae, image, { ...o, tile: { height: 6, width: 7 } });
    tiles = 0;
    spy = injectOnFirst('read', 'out-of-memory');
    const enc = await vaeEncodeAuto(ctx, vae, image, { ...o, onOutOfMemory: (n) => (tiles = n) });
    spy.mockRestore();
    expect(tiles).toBe(grid.rows.length * grid.cols.length);
    expect(enc.moments.shape).toEqual([1, 2 * vae.arch.latentChannels, h, w]);
    expect(Array.from(enc.moments.data)).toEqual(Array.from(wantEnc.moments.data));

    // a validation error is a bug, not a size problem: no fallback
    tiles = 0;
    spy = injectOnFirst('read', 'validation');
    await expect(vaeDecodeAutoHost(ctx, vae, z, { ...o, onOutOfMemory: (n) => (tiles = n) })).rejects.toThrow(GpuValidationError);
    spy.mockRestore();
    expect(tiles).toBe(0);
    ctx.release(z);
  });
});
