/**
 * The Settings section end to end in headless Chromium (real IndexedDB and OPFS): the storage view
 * shows the imported model and a generated image with their sizes; "Delete all images" empties the
 * gallery (also after a reload); precision and memory mode persist with the Generate draft; "Keep my
 * data" shows the browser's answer; deleting the model from the storage view frees its bytes.
 */
import type { Page } from '@playwright/test';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, TINY_ID, waitGenerated } from './fixtures/models';

test.setTimeout(300_000);

/** Waits for the Settings page's storage reading to settle and returns the bridge. */
async function storageSettled(page: Page) {
  await page.waitForFunction(() => window.__studio?.storage.loaded === true && !window.__studio.storage.busy);
  return studioReady(page);
}

const estimateUsage = (page: Page) => page.evaluate(() => navigator.storage.estimate().then((e) => e.usage ?? 0));

test('storage view, clean-ups, run options and persistence', async ({ page, pageErrors }, testInfo) => {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
  await page.goto('/');
  await importTinyModel(page);
  await fillGenerate(page, { prompt: 'a red barn in a green field', steps: 2, seed: 3 });
  await page.getByTestId('gen-go').click();
  await waitGenerated(page);
  expect((await studioReady(page)).generation.phase).toBe('done');
  await page.waitForFunction(() => window.__studio?.gallery.count === 1);

  // ---- the storage view: the model with its size, the gallery with its one image ----
  await openSection(page, 'Settings');
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  let s = await storageSettled(page);
  const model = s.models.find((m) => m.id === TINY_ID)!;
  expect(model.bytes).toBeGreaterThan(1_000_000);
  const row = page.locator(`[data-testid="storage-model"][data-model-id="${TINY_ID}"]`);
  await expect(row).toBeVisible();
  // The folder's bytes on disk: the manifest's file bytes plus the manifest itself.
  const rowBytes = Number(await row.getAttribute('data-bytes'));
  expect(rowBytes).toBe(model.bytesOnDisk);
  expect(rowBytes).toBeGreaterThanOrEqual(model.bytes);
  expect(rowBytes - model.bytes).toBeLessThan(64 * 1024);
  await expect(row.getByTestId('storage-model-size')).toHaveText(/^\d+(\.\d+)? MiB$/);
  expect(s.storage.models).toBe(model.bytesOnDisk);
  expect(s.storage.modelsCount).toBe(1);
  expect(s.storage.galleryCount).toBe(1);
  expect(s.storage.galleryBytes).toBeGreaterThan(0);
  await expect(page.getByTestId('storage-gallery-count')).toHaveText('1 image');
  expect(Number(await page.getByTestId('storage-gallery').getAttribute('data-bytes'))).toBe(s.storage.galleryBytes);
  expect(s.storage.usage).toBeGreaterThan(model.bytes * 0.9);
  expect(s.storage.quota).toBeGreaterThan(s.storage.usage);
  expect(s.storage.available).toBe(s.storage.quota - s.storage.usage);
  await expect(page.getByTestId('storage-used')).toContainText(/\d/);
  await expect(page.getByTestId('storage-scenes-clear')).toBeDisabled(); // no scenes: nothing to delete
  await page.getByTestId('storage-view').screenshot({ path: testInfo.outputPath('storage-view.png') });
  await testInfo.attach('storage view', { path: testInfo.outputPath('storage-view.png'), contentType: 'image/png' });

  // ---- "Delete all images" (confirmed) empties the gallery ----
  await page.getByTestId('storage-gallery-clear').click();
  await page.waitForFunction(() => window.__studio?.gallery.count === 0 && window.__studio.storage.galleryCount === 0 && !window.__studio.storage.busy);
  expect(dialogs.at(-1)).toMatch(/^Delete the only image \(\d.*\)\? This cannot be undone\.$/);
  await expect(page.getByTestId('storage-outcome')).toContainText('Deleted 1 image');
  await expect(page.getByTestId('storage-gallery-count')).toHaveText('0 images');
  expect((await studioReady(page)).storage.galleryBytes).toBe(0);
  await expect(page.getByTestId('storage-gallery-clear')).toBeDisabled();

  // ---- precision and memory mode edit the Generate draft ----
  await expect(page.getByTestId('settings-precision-auto')).toBeChecked();
  await expect(page.getByTestId('settings-memory-balanced')).toBeChecked();
  await page.getByTestId('settings-precision-f32').check();
  await page.getByTestId('settings-memory-low').check();
  await expect(page.getByTestId('settings-ewa-code')).toBeChecked();
  await page.getByTestId('settings-ewa-paper').check();
  s = await studioReady(page);
  expect(s.generation.draft.ewaForm).toBe('paper');
  expect(s.generation.draft.precision).toBe('f32');
  expect(s.generation.draft.memoryMode).toBe('low');
  await expect(page.getByTestId('settings-memory')).toContainText('about half the activation memory');
  await page.waitForTimeout(600); // the draft is written 300 ms after the last change

  // ---- after a reload: the gallery stays empty, the choices are kept ----
  await page.reload();
  await studioReady(page);
  await page.waitForFunction(() => window.__studio?.gallery.loaded === true);
  s = await studioReady(page);
  expect(s.gallery.count).toBe(0);
  expect(s.generation.draft.precision).toBe('f32');
  expect(s.generation.draft.memoryMode).toBe('low');
  await openSection(page, 'Settings');
  await expect(page.getByTestId('settings-precision-f32')).toBeChecked();
  await expect(page.getByTestId('settings-memory-low')).toBeChecked();
  await expect(page.getByTestId('settings-ewa-paper')).toBeChecked();
  s = await storageSettled(page);
  expect(s.storage.galleryCount).toBe(0);
  // the Generate form shows the same precision
  await openSection(page, 'Generate');
  await expect(page.getByTestId('gen-precision')).toHaveValue('f32');
  await openSection(page, 'Settings');
  await storageSettled(page);

  // ---- "Keep my data": the page shows whatever the browser answered ----
  await page.getByTestId('persist-request').click();
  await expect(page.getByTestId('persist-result')).toBeVisible();
  await page.waitForFunction(() => !window.__studio?.storage.busy);
  const granted = await page.evaluate(() => navigator.storage.persisted());
  await expect(page.getByTestId('persist-result')).toHaveAttribute('data-result', granted ? 'granted' : 'denied');
  await expect(page.getByTestId('persist-result')).toContainText(granted ? 'Granted.' : 'Not granted.');
  await expect(page.getByTestId('persist-state')).toHaveAttribute('data-persisted', String(granted));
  testInfo.annotations.push({ type: 'persist', description: granted ? 'granted' : 'denied' });
  await page.getByTestId('persist-card').screenshot({ path: testInfo.outputPath('persist.png') });
  await testInfo.attach('persistence', { path: testInfo.outputPath('persist.png'), contentType: 'image/png' });
  s = await studioReady(page);
  expect(s.storage.persistRequest).toBe(granted ? 'granted' : 'denied');
  expect(s.storage.persisted).toBe(granted);

  // ---- deleting the model from the storage view frees its bytes ----
  const before = await estimateUsage(page);
  await row.getByTestId('storage-model-delete').click();
  await expect(row).toHaveCount(0, { timeout: 30_000 });
  expect(dialogs.at(-1)).toContain('Delete the model “');
  await page.waitForFunction(() => !window.__studio?.storage.busy);
  s = await studioReady(page);
  expect(s.storage.modelsCount).toBe(0);
  expect(s.storage.models).toBe(0);
  expect(s.models.some((m) => m.id === TINY_ID)).toBe(false);
  expect(s.activeModelId).toBeNull();
  // The estimate counts OPFS: it drops by about the model's size (it may settle a moment later).
  await expect.poll(() => estimateUsage(page), { timeout: 15_000 }).toBeLessThan(before - model.bytes * 0.9);
  await expect(page.getByTestId('storage-outcome')).toContainText('Deleted');
  await expect(page.getByTestId('storage-models')).toContainText('No models stored');
  expect(pageErrors).toEqual([]);
});
