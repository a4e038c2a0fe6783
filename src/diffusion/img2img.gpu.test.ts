/**
 * Image to image, inpainting and outpainting end to end through the engine (the studio's and the CLI's
 * path) on the tiny golden SDXL, small: 32×32 pixels (4×4 latents), 3 Euler steps, no guidance.
 * - strength 0 is the init image's VAE round trip, computed here with the VAE alone (encode → posterior
 *   mean → decode), independent of the sampling loop;
 * - strength 1 ignores the init image: the same bytes as text to image with the same seed;
 * - inpainting with keepOutside: every pixel the blurred mask does not reach is the input's byte for
 *   byte, and the inside changed;
 * - outpainting one side: the canvas grows, the original area is kept exactly, the new area is painted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ADAPTER } from '../../tests/gpu-harness';
import { tinyEngine } from '../engine/engine-test-kit';
import type { GenerateParams, RgbaImage } from '../engine/protocol';
import { parseVaeConfig } from '../model/config';
import { imageToUnit, rgba8ToImage, unitToRgba8 } from '../model/vae/image';
import { GOLDEN_VAE, openFile } from '../model/vae/legacy-file.fixture';
import { destroyVae, loadVae } from '../model/vae/load';
import { vaeDecodeAuto, vaeEncodeAuto } from '../model/vae/tiled';
import { readFileSync } from 'node:fs';
import { blurMask } from './img2img';

const S = 32;
const te = tinyEngine();
afterAll(() => te.engine.dispose());

/** A smooth colour pattern, opaque. */
function pattern(w: number, h: number): RgbaImage {
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) rgba.set([(x * 255) / (w - 1), (y * 255) / (h - 1), 128 + 100 * Math.sin((x + y) / 5), 255], (y * w + x) * 4);
  }
  return { width: w, height: h, rgba };
}

const base: GenerateParams = { prompt: 'a red cube', negativePrompt: '', width: S, height: S, steps: 3, guidanceScale: 1, scheduler: 'euler', seed: 1234, previewEvery: 0 };
const run = async (p: Partial<GenerateParams>) => (await te.engine.generate({ ...base, ...p })).image;

describe(`image to image through the engine on ${TEST_ADAPTER}`, () => {
  const init = pattern(S, S);

  it('strength 0 returns the init image’s VAE round trip; strength 1 is text to image of the seed', async () => {
    await te.engine.load({ type: 'stored', id: 'tiny' }, 'f32');
    const zero = await run({ initImage: init, strength: 0 });

    const ctx = te.ctx();
    const config = parseVaeConfig(JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')));
    const file = await openFile(GOLDEN_VAE);
    const vae = await loadVae(ctx, file, config, { dtype: 'f32', parts: ['encoder', 'decoder'] });
    let roundTrip: Uint8ClampedArray;
    try {
      const { posterior } = await vaeEncodeAuto(ctx, vae, rgba8ToImage(init.rgba, S, S));
      const z = ctx.upload(posterior.mean, posterior.shape, 'f32', 'test-z');
      const img = await vaeDecodeAuto(ctx, vae, z);
      roundTrip = unitToRgba8({ data: imageToUnit(await ctx.read(img)), shape: [...img.shape] });
      ctx.release(z, img);
    } finally {
      destroyVae(ctx, vae);
      await file.close();
    }
    // the loop scales by scaling_factor and back (an ulp apart at most): at most one level off
    let maxDiff = 0;
    for (let k = 0; k < roundTrip.length; k++) maxDiff = Math.max(maxDiff, Math.abs(roundTrip[k]! - zero.rgba[k]!));
    expect(maxDiff).toBeLessThanOrEqual(1);

    const one = await run({ initImage: init, strength: 1 });
    const plain = await run({});
    expect(one.rgba).toEqual(plain.rgba);
  }, 600_000);

  it('inpainting with keepOutside keeps every pixel the blurred mask misses bit for bit and repaints the inside', async () => {
    const mask = new Float32Array(S * S);
    for (let y = 8; y < 24; y++) for (let x = 8; x < 24; x++) mask[y * S + x] = 1;
    const out = await run({ initImage: init, strength: 1, mask: { width: S, height: S, data: mask }, maskBlur: 1, keepOutside: true });
    const blurred = blurMask(mask, S, S, 1);
    let outside = 0;
    let changedInside = 0;
    for (let p = 0; p < S * S; p++) {
      const px = Array.from(out.rgba.subarray(p * 4, p * 4 + 4));
      const was = Array.from(init.rgba.subarray(p * 4, p * 4 + 4));
      if (blurred[p] === 0) {
        outside++;
        expect(px, `pixel ${p}`).toEqual(was);
      } else if (mask[p] === 1 && px.some((v, c) => v !== was[c])) changedInside++;
    }
    expect(outside).toBeGreaterThan(S * S / 2);
    expect(changedInside).toBeGreaterThan(100);
  }, 600_000);

  it('outpainting the right side: a wider canvas, the image kept exactly, the new strip painted', async () => {
    const out = await run({ initImage: init, strength: 1, width: S + 16, outpaint: [0, 0, 16, 0], maskBlur: 0, keepOutside: true });
    expect([out.width, out.height]).toEqual([S + 16, S]);
    const W = S + 16;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) expect(Array.from(out.rgba.subarray((y * W + x) * 4, (y * W + x) * 4 + 4))).toEqual(Array.from(init.rgba.subarray((y * S + x) * 4, (y * S + x) * 4 + 4)));
    // the strip is not the repeated edge column the canvas started from
    let differs = 0;
    for (let y = 0; y < S; y++) for (let x = S; x < W; x++) if (out.rgba[(y * W + x) * 4] !== init.rgba[(y * S + S - 1) * 4]) differs++;
    expect(differs).toBeGreaterThan(S * 4);
  }, 600_000);
});
