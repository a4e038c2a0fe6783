// The approximate (low-memory) tiled VAE paths (tiles.ts + tiled.ts) on the tiny golden VAE against the untiled runs, on
// SwiftShader (f32) and lavapipe (f16 storage), with forced small tiles so a small latent gets 2×2 tiles.
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import { imageToUnit, unitToRgba8 } from './image';
import { loadGoldenVae, takeTensor } from './golden-vae.fixture';
import { destroyVae } from './load';
import { latentsToImage, planFor, vaeDecodeAuto, vaeEncodeAuto } from './tiled';
import { vaeDecode } from './vae';




describe(`tiled VAE on ${TEST_ADAPTER}`, () => {
  it('tiled decode and encode (2×2 forced tiles) stay close to the untiled runs and converge to them', async () => {
    const ctx = await testContext();
    const vae = await loadGoldenVae(ctx);
    const [h, w] = [12, 14];
    const zData = randomArray(4 * h * w, 7, -2, 2);
    const z = ctx.upload(zData, [1, 4, h, w], vae.dtype, 'z');
    expect((await planFor(ctx, vae, 'decode', 1, h, w)).mode).toBe('whole');
    // over the binding limit the default is the exact banded run (banded.gpu.test.ts); tiles only in low-memory mode
    const overLimit = { maxBindingBytes: 40 * 1024 * (vae.dtype === 'f16' ? 2 : 4) };
    expect((await planFor(ctx, vae, 'decode', 1, h, w, overLimit)).mode).toBe('bands');
    expect((await planFor(ctx, vae, 'decode', 1, h, w, { ...overLimit, lowMemory: true, overlap: 3 })).mode).toBe('tiles');
    const whole = await takeTensor(ctx, vaeDecode(ctx, vae, z));
    let tiles = 0;
    const tiled = await takeTensor(ctx, vaeDecodeAuto(ctx, vae, z, { tile: { height: 8, width: 9 }, overlap: 3, onTile: (_d, n) => (tiles = n) }));
    expect(tiles).toBe(4);
    const bigger = await takeTensor(ctx, vaeDecodeAuto(ctx, vae, z, { tile: { height: 12, width: 10 }, overlap: 3 }));
    const rms = Math.sqrt(whole.reduce((s, v) => s + v * v, 0) / whole.length);
    const meanAbs = (a: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - whole[i]!), 0) / a.length;
    const [small, large] = [meanAbs(tiled), meanAbs(bigger)];
    console.log(`[vae tiled ${vae.dtype}] decode ${h}×${w} (image rms ${rms.toFixed(3)}) vs untiled: 2×2 tiles of 8×9: ${describeComparison(compare(tiled, whole))} ` +
      `mean_abs=${small.toExponential(2)}; 1×2 tiles of 12×10: mean_abs=${large.toExponential(2)}`);
    // Not a rounding bound: each tile's GroupNorms use that tile's own statistics, its mid-block attention
    // sees only its own tokens, and its border convs see zero padding instead of the neighbour's pixels
    // (diffusers' tiled decode makes the same approximation). On this random-weight VAE, whose attention
    // mixes the whole latent, that moves the image everywhere, not only at the seams (measured with tiles
    // of 10×12 / 14×18 of a 16×20 latent: mean |Δ| = 0.17 / 0.05 of the image rms, spread over all rows).
    // A placement bug (a tile shifted or dropped, weights not summing to 1) moves it by about the rms. So
    // the checks: well below that, and shrinking as the tiles grow towards the whole latent (where the
    // tiled path is the untiled run: tiles.test.ts checks the blending exactly on a local network).
    expect(small).toBeLessThan(0.35 * rms);
    expect(large).toBeLessThan(0.6 * small);

    const image = { data: imageToUnit(whole).map((v) => v * 2 - 1), shape: [1, 3, 8 * h, 8 * w] };
    const e1 = await vaeEncodeAuto(ctx, vae, image);
    const e2 = await vaeEncodeAuto(ctx, vae, image, { tile: { height: 8, width: 9 }, overlap: 3 });
    const mrms = Math.sqrt(e1.posterior.mean.reduce((s, v) => s + v * v, 0) / e1.posterior.mean.length);
    const me = e2.posterior.mean.reduce((s, v, i) => s + Math.abs(v - e1.posterior.mean[i]!), 0) / e1.posterior.mean.length;
    console.log(`[vae tiled ${vae.dtype}] encode 2×2 tiles vs untiled: mean ${describeComparison(compare(e2.posterior.mean, e1.posterior.mean))} mean_abs=${me.toExponential(2)} (rms ${mrms.toFixed(3)})`);
    expect(me).toBeLessThan(0.35 * mrms);
    expect(e2.moments.shape).toEqual([1, 8, h, w]);

    // latentsToImage = clamp(decode(latents / scaling_factor) / 2 + 0.5), untiled here (decodeAuto's plan)
    const latents = ctx.upload(zData.map((v) => v * vae.arch.scalingFactor), [1, 4, h, w], vae.dtype, 'latents');
    const img = await latentsToImage(ctx, vae, latents);
    expect(img.shape).toEqual([1, 3, 8 * h, 8 * w]);
    expect(compare(img.data, imageToUnit(whole)).maxAbs).toBeLessThan(vae.dtype === 'f16' ? 1e-2 : 1e-5);
    const rgba = unitToRgba8(img);
    expect(rgba.length).toBe(8 * h * 8 * w * 4);
    expect([rgba[0], rgba[3]]).toEqual([Math.round(img.data[0]! * 255), 255]);
    ctx.release(z, latents);
    destroyVae(ctx, vae);
  });
});
