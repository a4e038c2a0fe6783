/**
 * Editing end to end (issue 14) with the tiny golden SDXL on SwiftShader: a photo dropped on the
 * Generate page; image to image at strength 1 is the text-to-image run of the seed, at strength 0 the
 * photo's VAE round trip (the same for any seed and prompt: no noise is added); an inpainted
 * rectangle changes inside and leaves every pixel outside bit for bit the photo's (checked on the
 * downloaded PNG, with its parameters); "Reuse" restores init image, mask and strength; outpainting
 * one side gives a larger image whose old area is the photo.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { dropInitPng, testPhoto } from './fixtures/photo';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, waitGenerated } from './fixtures/models';
import { decodePng, encodePng, readPngText } from '../src/storage/png/png';
import { parseParameters } from '../src/storage/png/parameters';

test.setTimeout(420_000);

const W = 64;
const H = 48;

/** Generates and returns the shown image's RGBA (the canvas holds the result's exact bytes). */
async function run(page: Page): Promise<{ width: number; height: number; rgba: number[] }> {
  const before = (await studioReady(page)).gallery.count;
  await page.getByTestId('gen-go').click();
  await page.waitForFunction((n) => (window.__studio?.gallery.count ?? 0) > n || window.__studio?.generation.phase === 'error', before, { timeout: 120_000 });
  await waitGenerated(page);
  const s = await studioReady(page);
  expect(s.generation.error).toBeNull();
  return page.getByTestId('gen-image').evaluate((c: HTMLCanvasElement) => ({ width: c.width, height: c.height, rgba: [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data] }));
}

test('drop a photo: img2img at strength 1 and 0, inpaint keeps the outside, reuse restores, outpaint one side', async ({ page, pageErrors }) => {
  const input = testPhoto(W, H);
  const png = await encodePng(input, W, H);
  await page.goto('/');
  await importTinyModel(page);
  await fillGenerate(page, { prompt: 'a red house by a lake', width: W, height: H, steps: 3, seed: 11 });
  const t2i = await run(page);

  await dropInitPng(page, png, 'photo.png');
  await expect(page.getByTestId('gen-init-fit')).toContainText('photo.png: used as it is (64×48)');
  // strength validated as typed: 1.5 is refused and the last good value stays
  await page.getByTestId('gen-strength').fill('1.5');
  await expect(page.getByTestId('gen-strength-error')).toContainText('from 0 to 1');
  await page.getByTestId('gen-strength').fill('1');
  await expect(page.getByTestId('gen-strength-error')).toHaveCount(0);
  // strength 1 starts from pure noise: the text-to-image run of the same seed
  expect(await run(page)).toEqual(t2i);

  // strength 0 runs no step: the photo's VAE round trip, whatever the seed and prompt
  await page.getByTestId('gen-strength').fill('0');
  const zero = await run(page);
  await page.getByTestId('gen-seed').fill('12');
  await page.getByTestId('gen-prompt').fill('a completely different prompt');
  expect(await run(page)).toEqual(zero);
  expect(zero.rgba).not.toEqual(t2i.rgba);

  // inpaint a rectangle (blur 0, keep the outside), prompt and strength 0.9
  await page.getByTestId('gen-mode-inpaint').click();
  await page.getByTestId('gen-mask-blur').fill('0');
  await page.getByTestId('gen-strength').fill('0.9');
  await page.getByTestId('gen-mask-rect').click();
  const box = (await page.getByTestId('gen-mask-canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.25);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 3 });
  await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.75, { steps: 3 });
  await page.mouse.up();
  await run(page);

  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').first().click();
  await expect(page.getByTestId('gal-edit-mask')).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('gal-download').click()]);
  const file = new Uint8Array(readFileSync((await download.path())!));
  const out = await decodePng(file);
  expect([out.width, out.height]).toEqual([W, H]);
  let outsideDiff = 0;
  let inside = 0;
  let insideChanged = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 4;
      const same = [0, 1, 2, 3].every((c) => out.rgba[o + c] === input[o + c]);
      // the painted rectangle is [16, 48) × [12, 36); 2 px of slack for the pointer's rounding
      if (x < 14 || x >= 50 || y < 10 || y >= 38) outsideDiff += same ? 0 : 1;
      else if (x >= 18 && x < 46 && y >= 14 && y < 34) (inside++, (insideChanged += same ? 0 : 1));
    }
  }
  expect(outsideDiff).toBe(0);
  expect(insideChanged).toBeGreaterThan(inside * 0.9);
  const params = parseParameters(readPngText(file).parameters!);
  expect(params).toMatchObject({ prompt: 'a completely different prompt', seed: 12, denoisingStrength: 0.9, maskBlur: 0, keepOutside: true, width: W, height: H });

  // back to text to image, then "Reuse" restores the init image, the mask and the strength
  await openSection(page, 'Generate');
  await page.getByTestId('gen-init-clear').click();
  await expect(page.getByTestId('gen-init-drop')).toBeVisible();
  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').first().click();
  await page.getByTestId('gal-reuse').click();
  await expect(page.getByTestId('gen-mask-canvas')).toBeVisible();
  await expect(page.getByTestId('gen-strength')).toHaveValue('0.9');
  await expect(page.getByTestId('gen-mask-blur')).toHaveValue('0');
  const painted = await page.getByTestId('gen-mask-canvas').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) n += d[i]! > 0 ? 1 : 0;
    return n;
  });
  expect(painted).toBeGreaterThan(28 * 20);
  expect(painted).toBeLessThan(36 * 28);

  // outpaint 16 px on the right: an 80×48 image whose left 64 columns are the photo
  await page.getByTestId('gen-mode-outpaint').click();
  await page.getByTestId('gen-outpaint-right-plus').click();
  await page.getByTestId('gen-outpaint-right-plus').click();
  await expect(page.getByTestId('gen-init-fit')).toContainText('extended to 80×48');
  const wide = await run(page);
  expect([wide.width, wide.height]).toEqual([W + 16, H]);
  let oldDiff = 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 4; c++) oldDiff += wide.rgba[(y * (W + 16) + x) * 4 + c] === input[(y * W + x) * 4 + c] ? 0 : 1;
  expect(oldDiff).toBe(0);
  expect(pageErrors).toEqual([]);
});
