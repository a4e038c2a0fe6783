/**
 * Restyle a photo with a plain LoRA (issue 14 point 4) on the tiny golden SDXL: image to image at
 * strength 0.6 without and with `<lora:style:…>` (golden/lora's kohya file, imported on the Models page);
 * the LoRA's style strength slider rewrites its weight in the prompt; the restyled image differs from
 * the plain edit of the same seed, and its PNG carries `Denoising strength` and `Lora hashes`.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, waitGenerated } from './fixtures/models';
import { dropInitPng, testPhoto } from './fixtures/photo';
import { encodePng, readPngText } from '../src/storage/png/png';
import { parseParameters } from '../src/storage/png/parameters';

test.setTimeout(420_000);

const W = 64;
const H = 48;

async function run(page: Page): Promise<number[]> {
  const before = (await studioReady(page)).gallery.count;
  await page.getByTestId('gen-go').click();
  await page.waitForFunction((n) => (window.__studio?.gallery.count ?? 0) > n || window.__studio?.generation.phase === 'error', before, { timeout: 120_000 });
  await waitGenerated(page);
  expect((await studioReady(page)).generation.error).toBeNull();
  return page.getByTestId('gen-image').evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data]);
}

test('restyle a photo with a plain LoRA: the style strength sets its weight, the image changes, the PNG says so', async ({ page, pageErrors }) => {
  await page.goto('/');
  await importTinyModel(page);
  await page.getByTestId('lora-import-input').setInputFiles([{ name: 'style.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync('golden/lora/lora_kohya.safetensors') }]);
  await expect(page.getByTestId('lora-row')).toHaveCount(1);

  await fillGenerate(page, { prompt: 'a red house by a lake', width: W, height: H, steps: 4, seed: 21 });
  await dropInitPng(page, await encodePng(testPhoto(W, H), W, H), 'photo.png');
  await page.getByTestId('gen-strength').fill('0.6');
  const plain = await run(page);

  await page.getByTestId('gen-prompt').fill('a red house by a lake <lora:style:1>');
  const slider = page.getByLabel('Style strength of style');
  await expect(slider).toBeVisible();
  await slider.fill('1.5');
  await expect(page.getByTestId('gen-prompt')).toHaveValue('a red house by a lake <lora:style:1.5>');
  const styled = await run(page);
  expect(styled.length).toBe(plain.length);
  expect(styled).not.toEqual(plain);

  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').first().click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('gal-download').click()]);
  const params = parseParameters(readPngText(new Uint8Array(readFileSync((await download.path())!))).parameters!);
  expect(params).toMatchObject({ prompt: 'a red house by a lake <lora:style:1.5>', seed: 21, denoisingStrength: 0.6 });
  expect(params.loraHashes?.map((l) => l.name)).toEqual(['style']);
  expect(pageErrors).toEqual([]);
});
