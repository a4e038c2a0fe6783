/**
 * Editing's bad input in the real browser (issue 14 acceptance): an image the browser cannot decode and
 * an 80 000 × 80 000 PNG are refused by file name and the photo already loaded stays; inpainting with
 * an empty mask is plain image to image and says so; a scene with a painted region generates on its
 * reference image as the init image (regions on an init image are supported, not refused), and the
 * gallery keeps that init image and strength.
 */
import type { Page } from '@playwright/test';
import { dropInitPng, testPhoto } from './fixtures/photo';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, waitGenerated } from './fixtures/models';
import { activeLayer, dragOnStage, sceneBridge } from './fixtures/scenes';
import { encodePng } from '../src/storage/png/png';

test.setTimeout(420_000);

const W = 64;
const H = 48;

async function run(page: Page, go = 'gen-go', image = 'gen-image'): Promise<string> {
  const before = (await studioReady(page)).gallery.count;
  await page.getByTestId(go).click();
  await page.waitForFunction((n) => (window.__studio?.gallery.count ?? 0) > n || window.__studio?.generation.phase === 'error', before, { timeout: 180_000 });
  await waitGenerated(page, 180_000);
  expect((await studioReady(page)).generation.error).toBeNull();
  return page.getByTestId(image).evaluate((c: HTMLCanvasElement) => c.toDataURL());
}

/** Drops raw bytes as a PNG-typed file on the init image's thumbnail (the zone once a photo is loaded). */
const dropBytesOnThumb = (page: Page, bytes: Uint8Array, name: string) => dropInitPng(page, bytes, name, page.locator('.gen-init-thumb'));

/** Sets a range input as a drag would (Playwright's fill() refuses type=range). */
async function setRange(page: Page, testId: string, value: string): Promise<void> {
  await page.getByTestId(testId).evaluate((el: HTMLInputElement, v) => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

/** A PNG whose header says 80 000 × 80 000 (its IDAT would inflate to 25 GB): a decompression bomb. */
async function bombPng(): Promise<Uint8Array> {
  const png = await encodePng(testPhoto(8, 8), 8, 8);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  dv.setUint32(16, 80_000);
  dv.setUint32(20, 80_000);
  return png;
}

test('refused images keep the loaded photo; an empty inpaint mask is plain image to image, said', async ({ page, pageErrors }) => {
  await page.goto('/');
  await importTinyModel(page);
  await fillGenerate(page, { prompt: 'a red house by a lake', width: W, height: H, steps: 2, seed: 5 });
  await dropInitPng(page, await encodePng(testPhoto(W, H), W, H), 'photo.png');
  await expect(page.getByTestId('gen-init-fit')).toContainText('photo.png: used as it is');

  await dropBytesOnThumb(page, new TextEncoder().encode('this is not a picture at all'), 'broken.png');
  await expect(page.getByTestId('gen-init-message')).toContainText('broken.png: this browser cannot decode it');
  await expect(page.getByTestId('gen-init-fit')).toContainText('photo.png');

  await dropBytesOnThumb(page, await bombPng(), 'bomb.png');
  await expect(page.getByTestId('gen-init-message')).toContainText('bomb.png is 80000×80000 pixels');
  await expect(page.getByTestId('gen-init-fit')).toContainText('photo.png');
  await expect(page.getByTestId('gen-init-image')).toBeVisible();

  await page.getByTestId('gen-strength').fill('0.6');
  const img2img = await run(page);
  await page.getByTestId('gen-mode-inpaint').click();
  await expect(page.getByTestId('gen-mask-empty')).toContainText('the run is plain image to image');
  expect(await run(page)).toBe(img2img);
  expect(pageErrors).toEqual([]);
});

test('a scene with a painted region generates on its reference image as the init image', async ({ page, pageErrors }) => {
  await page.goto('/');
  await importTinyModel(page);
  // the reference: a picture in the gallery
  await fillGenerate(page, { prompt: 'a stone bridge', width: 64, height: 64, steps: 2, seed: 9 });
  await page.getByTestId('gen-seed-lock').check();
  await run(page);

  await openSection(page, 'Scenes');
  const sizes = await page.getByTestId('sc-size').locator('option').evaluateAll((o) => (o as HTMLOptionElement[]).map((x) => x.value));
  await page.getByTestId('sc-size').selectOption(sizes.includes('64x64') ? '64x64' : sizes[sizes.length - 1]!);
  await page.getByTestId('sc-global-prompt').fill('a river at dusk');
  await page.getByTestId('sc-name').fill('On a photo');
  await activeLayer(page).getByLabel('Region prompt').fill('a red boat');
  await page.getByTestId('sc-tool-rect').click();
  await dragOnStage(page, [10, 10], [120, 120]);
  expect((await sceneBridge(page)).layers[0]!.coverage).toBeGreaterThan(0);
  await page.getByTestId('sc-steps').fill('2');
  await page.getByTestId('sc-seed').fill('21');
  await page.getByTestId('sc-ref-toggle').click();
  await page.getByTestId('sc-ref-grid').locator('button').first().click();
  const plain = await run(page, 'sc-generate', 'sc-run-image');

  await page.getByTestId('sc-init-use').check();
  await setRange(page, 'sc-init-strength', '0.5');
  const onInit = await run(page, 'sc-generate', 'sc-run-image');
  expect(onInit).not.toBe(plain);
  expect((await studioReady(page)).gallery.regions[0]).toHaveLength(1);

  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').first().click();
  await expect(page.getByTestId('gal-edit-init')).toBeVisible();
  await expect(page.getByTestId('gal-edit')).toContainText('0.5');
  expect(pageErrors).toEqual([]);
});
