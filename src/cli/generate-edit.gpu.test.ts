/**
 * `npm run generate -- --init … --strength … --mask … --keep-outside` on the tiny golden SDXL: the PNG's
 * pixels are those of the engine's run with the same edit (the studio's path: the mask PNG read as
 * gray × alpha, white = repaint), and its parameters carry the strength and the mask blur as A1111 writes them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maskFromGray } from '../diffusion/edit-image';
import { tinyEngine } from '../engine/engine-test-kit';
import { decodePng, encodePng } from '../storage/png/png';
import { parseParameters } from '../storage/png/parameters';
import { TEST_ADAPTER, TEST_DEVICE_OPTIONS, testGpu } from '../../tests/gpu-harness';
import { runGenerateCli } from './generate';

const dir = mkdtempSync(join(tmpdir(), 'cidm-generate-edit-'));
const te = tinyEngine();
afterAll(() => {
  te.engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const S = 32;

describe(`npm run generate --init on ${TEST_ADAPTER}`, () => {
  it('inpaints like the engine, keeps the outside, and writes Denoising strength and Mask blur', async () => {
    const init = new Uint8ClampedArray(S * S * 4);
    const mask = new Uint8ClampedArray(S * S * 4);
    for (let p = 0; p < S * S; p++) {
      const [x, y] = [p % S, Math.floor(p / S)];
      init.set([x * 8, y * 8, 90, 255], p * 4);
      mask.set(x >= 16 ? [255, 255, 255, 255] : [0, 0, 0, 255], p * 4);
    }
    writeFileSync(join(dir, 'init.png'), await encodePng(init, S, S));
    writeFileSync(join(dir, 'mask.png'), await encodePng(mask, S, S));
    const out = join(dir, 'out.png');
    const lines: string[] = [];
    const argv = ['--model', 'golden/models', '--prompt', 'a blue sphere', '--size', `${S}x${S}`, '--steps', '3', '--cfg', '1', '--sampler', 'dpmpp_2m', '--seed', '99', '--out', out];
    await runGenerateCli([...argv, '--init', join(dir, 'init.png'), '--strength', '0.8', '--mask', join(dir, 'mask.png'), '--mask-blur', '1', '--keep-outside'], {
      gpu: testGpu(), deviceOptions: TEST_DEVICE_OPTIONS, log: (l) => lines.push(l),
    });
    const png = await decodePng(new Uint8Array(readFileSync(out)));
    expect(parseParameters(png.text.parameters!)).toMatchObject({ denoisingStrength: 0.8, maskBlur: 1, keepOutside: true, width: S, height: S });

    await te.engine.load({ type: 'stored', id: 'tiny' }, 'auto');
    const studio = await te.engine.generate({
      prompt: 'a blue sphere', negativePrompt: '', width: S, height: S, steps: 3, guidanceScale: 1, scheduler: 'dpmpp_2m', seed: 99, previewEvery: 0,
      initImage: { width: S, height: S, rgba: init }, strength: 0.8, mask: { width: S, height: S, data: maskFromGray(mask) }, maskBlur: 1, keepOutside: true,
    });
    expect(png.rgba).toEqual(studio.image.rgba);
    // the left columns the blur (σ 1, 3 px) does not reach are the init image's bytes
    for (let y = 0; y < S; y++) for (let x = 0; x < 12; x++) expect(Array.from(png.rgba.subarray((y * S + x) * 4, (y * S + x) * 4 + 4))).toEqual(Array.from(init.subarray((y * S + x) * 4, (y * S + x) * 4 + 4)));
  }, 600_000);
});
