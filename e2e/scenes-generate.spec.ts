/**
 * Painting the scene end to end: two regions with their own prompts painted in the Scenes editor,
 * generated with CIDM's regional synthesis in the engine worker; the scene and the image (with its
 * regions and the scene it came from) are saved; the image differs from plain text to image with
 * the same prompt, size and seed (the masks reached the model).
 */
import type { Page } from '@playwright/test';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { importTinyModel, waitGenerated } from './fixtures/models';
import { activeLayer, dragOnStage, sceneBridge } from './fixtures/scenes';

test.setTimeout(300_000);

const scenes = sceneBridge;
const drag = dragOnStage;
const imageData = (page: Page, testId = 'gen-image') => page.getByTestId(testId).evaluate((c: HTMLCanvasElement) => c.toDataURL());

test('two painted regions with prompts generate; the scene and the image with its regions are saved', async ({ page, pageErrors }) => {
  await page.goto('/');
  await importTinyModel(page);
  await openSection(page, 'Generate');
  await page.getByTestId('gen-steps').fill('2');
  await page.getByTestId('gen-seed').fill('31');
  await page.getByTestId('gen-seed-lock').check();

  await openSection(page, 'Scenes');
  await expect(page.getByTestId('scenes-page')).toBeVisible();
  await page.getByTestId('sc-size').selectOption('256x256');
  await expect.poll(async () => (await scenes(page)).width).toBe(256);
  await page.getByTestId('sc-global-prompt').fill('a meadow at noon');
  await page.getByTestId('sc-name').fill('Two regions');

  await activeLayer(page).getByLabel('Layer name').fill('Fox');
  await activeLayer(page).getByLabel('Region prompt').fill('a red fox');
  await page.getByTestId('sc-tool-rect').click();
  await drag(page, [16, 96], [120, 240]);
  await page.getByTestId('sc-layer-add').click();
  await activeLayer(page).getByLabel('Layer name').fill('Bird');
  await activeLayer(page).getByLabel('Region prompt').fill('a blue bird');
  await activeLayer(page).getByLabel('Region negative prompt').fill('cage');
  await drag(page, [150, 16], [240, 100]);
  const painted = await scenes(page);
  expect(painted.layers.map((l) => [l.name, l.coverage > 0])).toEqual([['Fox', true], ['Bird', true]]);
  await page.getByTestId('sc-save').click();
  await expect(page.getByTestId('sc-save-state')).toHaveText('Saved');

  // the region blending knobs of Eq. 4-5, at the paper's defaults
  await expect(page.getByTestId('sc-region-guidance')).toHaveValue('7.5');
  await expect(page.getByTestId('sc-region-alpha')).toHaveValue('0.1');
  await page.getByTestId('sc-generate').click();
  await waitGenerated(page, 240_000);
  let s = await studioReady(page);
  expect(s.generation.error).toBeNull();
  expect(s.generation.phase).toBe('done');
  expect(s.generation.result).toMatchObject({ width: 256, height: 256, seed: 31 });
  await page.waitForFunction(() => window.__studio?.gallery.count === 1);
  s = await studioReady(page);
  expect(s.gallery.regions[0]).toEqual(['Fox', 'Bird']);
  expect(s.gallery.sceneIds[0]).toBe(painted.sceneId);
  // the run stays on the Scenes page, which shows its image
  await expect(page.getByTestId('scenes-page')).toBeVisible();
  const withRegions = await imageData(page, 'sc-run-image');

  // the same prompt, size and seed as plain text to image (no regions): a different image
  await openSection(page, 'Generate');
  await page.getByTestId('gen-prompt').fill('a meadow at noon');
  await page.getByTestId('gen-negative').fill('');
  await page.getByTestId('gen-width').fill('256');
  await page.getByTestId('gen-height').fill('256');
  await page.getByTestId('gen-go').click();
  await waitGenerated(page, 240_000);
  await page.waitForFunction(() => window.__studio?.gallery.count === 2);
  s = await studioReady(page);
  expect(s.gallery.regions[0]).toEqual([]);
  expect(s.generation.result).toMatchObject({ width: 256, height: 256, seed: 31 });
  expect(await imageData(page)).not.toBe(withRegions);

  // after a reload the scene is listed with its regions and the gallery keeps both images
  await page.reload();
  await studioReady(page);
  await page.waitForFunction(() => window.__studio?.gallery.loaded === true && window.__studio.gallery.count === 2);
  await openSection(page, 'Scenes');
  await expect.poll(async () => (await scenes(page)).saved.map((x) => x.name)).toContain('Two regions');
  expect(pageErrors).toEqual([]);
});
