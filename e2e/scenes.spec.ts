/**
 * The Scenes section's mask editor: paint two regions (a brush stroke and a rectangle) with prompts,
 * undo/redo restore the exact mask bytes (FNV-1a checksums from the test bridge), a saved scene
 * survives a reload and reopens identical; a gallery image can be the reference under the masks.
 */
import type { Page } from '@playwright/test';
import { expect, studioReady, test } from './fixtures/studio';
import { activeLayer, dragOnStage, sceneBridge } from './fixtures/scenes';

const bridge = sceneBridge;

async function openScenes(page: Page): Promise<void> {
  await page.goto('/');
  await studioReady(page);
  await page.getByRole('navigation', { name: 'Studio sections' }).getByRole('button', { name: /^Scenes/ }).click();
  await expect(page.getByTestId('scenes-page')).toBeVisible();
  await expect.poll(async () => (await bridge(page)).savedLoaded).toBe(true);
}

const drag = dragOnStage;

const blur = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());

test.describe('scenes: region mask editor', () => {
  test('paint two regions, undo/redo exactly, save, reload and reopen the same scene', async ({ page, pageErrors, externalRequests }) => {
    await openScenes(page);
    let s = await bridge(page);
    expect(s.layers).toHaveLength(1);
    expect(s.width).toBe(1024);
    const empty = s.layers[0]!.checksum;
    expect(s.layers[0]!.coverage).toBe(0);

    // Region 1: a brush stroke.
    await activeLayer(page).getByLabel('Layer name').fill('Fox');
    await activeLayer(page).getByLabel('Region prompt').fill('a red fox');
    await blur(page);
    await expect(page.getByTestId('sc-tool-brush')).toHaveAttribute('aria-pressed', 'true');
    await drag(page, [150, 250], [420, 700], [[300, 400]]);
    await expect.poll(async () => (await bridge(page)).layers[0]!.coverage).toBeGreaterThan(20_000);

    // Region 2: a rectangle from (600, 150) to (900, 450).
    await page.getByTestId('sc-layer-add').click();
    await activeLayer(page).getByLabel('Layer name').fill('Bird');
    await activeLayer(page).getByLabel('Region prompt').fill('a blue bird');
    await activeLayer(page).getByLabel('Region negative prompt').fill('cage');
    await blur(page);
    await page.getByTestId('sc-tool-rect').click();
    await drag(page, [600, 150], [900, 450]);
    s = await bridge(page);
    expect(s.layers.map((l) => l.name)).toEqual(['Fox', 'Bird']);
    expect(s.layers[1]!.coverage).toBeGreaterThan(295 * 295);
    expect(s.layers[1]!.coverage).toBeLessThan(305 * 305);
    const painted = s.layers.map((l) => l.checksum);
    const depth = s.historyDepth;

    // Undo/redo with the buttons: the rectangle goes and comes back byte for byte.
    await page.getByTestId('sc-undo').click();
    s = await bridge(page);
    expect(s.layers[1]!.checksum).toBe(empty);
    expect(s.layers[0]!.checksum).toBe(painted[0]);
    await page.getByTestId('sc-redo').click();
    expect((await bridge(page)).layers.map((l) => l.checksum)).toEqual(painted);

    // And with the keyboard: Ctrl+Z twice (rectangle, then the negative prompt), Ctrl+Shift+Z, Ctrl+Y.
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    s = await bridge(page);
    expect(s.layers[1]!.checksum).toBe(empty);
    expect(s.layers[1]!.negativePrompt).toBe('');
    expect(s.redoDepth).toBe(2);
    await page.keyboard.press('Control+Shift+z');
    expect((await bridge(page)).layers[1]!.negativePrompt).toBe('cage');
    await page.keyboard.press('Control+y');
    s = await bridge(page);
    expect(s.layers.map((l) => l.checksum)).toEqual(painted);
    expect(s.historyDepth).toBe(depth);

    // The eraser on region 1 changes its pixels; one undo restores them exactly.
    // The panel lists the top layer first: Bird, then Fox.
    await page.getByTestId('sc-layer').nth(1).locator('.sc-layer-cov').click();
    await expect(activeLayer(page).getByLabel('Layer name')).toHaveValue('Fox');
    await page.getByTestId('sc-tool-eraser').click();
    await drag(page, [100, 400], [600, 400]);
    s = await bridge(page);
    expect(s.layers[0]!.checksum).not.toBe(painted[0]);
    expect(s.layers[0]!.coverage).toBeGreaterThan(0);
    await page.keyboard.press('Control+z');
    expect((await bridge(page)).layers.map((l) => l.checksum)).toEqual(painted);

    // Save.
    await page.getByTestId('sc-global-prompt').fill('a sunny meadow, film photo');
    await page.getByTestId('sc-name').fill('Meadow e2e');
    await page.getByTestId('sc-save').click();
    await expect(page.getByTestId('sc-save-state')).toHaveText('Saved');
    await expect(page.getByTestId('sc-saved-item')).toHaveCount(1);
    const saved = await bridge(page);
    expect(saved.dirty).toBe(false);

    // Reload: a fresh scene is open; the saved one is listed and reopens identical.
    await page.reload();
    await openScenes(page);
    expect((await bridge(page)).sceneId).not.toBe(saved.sceneId);
    const item = page.getByTestId('sc-saved-item');
    await expect(item).toHaveCount(1);
    await expect(item).toContainText('Meadow e2e');
    await expect(item).toContainText('2 regions');
    await item.getByRole('button', { name: 'Open Meadow e2e' }).click();
    await expect.poll(async () => (await bridge(page)).sceneId).toBe(saved.sceneId);
    s = await bridge(page);
    expect(s.name).toBe('Meadow e2e');
    expect(s.globalPrompt).toBe('a sunny meadow, film photo');
    expect(s.layers.map((l) => [l.name, l.prompt, l.negativePrompt, l.checksum])).toEqual([
      ['Fox', 'a red fox', '', painted[0]],
      ['Bird', 'a blue bird', 'cage', painted[1]],
    ]);
    expect(s.layers.map((l) => l.id)).toEqual(saved.layers.map((l) => l.id));
    expect(s.historyDepth).toBe(0);
    expect(s.dirty).toBe(false);
    await expect(page.getByTestId('sc-layer').first().getByLabel('Layer name')).toHaveValue('Bird');

    // Delete it (after the confirmation).
    page.once('dialog', (d) => void d.accept());
    await item.getByRole('button', { name: 'Delete Meadow e2e' }).click();
    await expect(page.getByTestId('sc-saved-empty')).toBeVisible();
    expect(pageErrors).toEqual([]);
    expect(externalRequests).toEqual([]);
  });

  test('a gallery image is the reference under the masks and is saved with the scene', async ({ page, pageErrors }) => {
    await page.goto('/');
    await studioReady(page);
    // Put one image into the gallery's database (idb-keyval: database cidm-gallery, store images).
    await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(64, 64);
      const g = canvas.getContext('2d')!;
      g.fillStyle = '#2a6';
      g.fillRect(0, 0, 64, 64);
      const png = await canvas.convertToBlob({ type: 'image/png' });
      const rec = { v: 2, id: 'img-e2e-ref', createdAt: Date.now(), modelId: 'm', dtype: 'f32', png, params: { prompt: 'green field', negativePrompt: '', steps: 1, scheduler: 'euler', guidanceScale: 1, seed: 1, width: 1024, height: 1024 } };
      await new Promise<void>((resolve, reject) => {
        const req = indexedDB.open('cidm-gallery');
        req.onupgradeneeded = () => req.result.createObjectStore('images');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction('images', 'readwrite');
          tx.objectStore('images').put(rec, rec.id);
          tx.oncomplete = () => (req.result.close(), resolve());
          tx.onerror = () => reject(tx.error);
        };
      });
    });
    await page.getByRole('navigation', { name: 'Studio sections' }).getByRole('button', { name: /^Scenes/ }).click();
    await page.getByTestId('sc-ref-toggle').click();
    await page.getByRole('button', { name: 'Use “green field” as the reference' }).click();
    await expect.poll(async () => (await bridge(page)).referenceImageId).toBe('img-e2e-ref');
    // The stage draws the image: its centre pixel is the image's green, not the empty canvas.
    const centre = () =>
      page.evaluate(() => {
        const el = document.querySelector('[data-testid="sc-stage"] canvas') as HTMLCanvasElement;
        const d = el.getContext('2d')!.getImageData(Math.floor(el.width / 2), Math.floor(el.height / 2), 1, 1).data;
        return d[1]! - d[0]!;
      });
    // #2a6 is (34, 170, 102): far more green than red once the image is drawn (the empty canvas is grey-blue).
    await expect.poll(centre).toBeGreaterThan(100);
    await page.getByTestId('sc-save').click();
    await expect(page.getByTestId('sc-saved-item')).toHaveCount(1);
    await page.reload();
    await openScenes(page);
    await page.getByTestId('sc-saved-item').getByRole('button', { name: /^Open/ }).click();
    await expect.poll(async () => (await bridge(page)).referenceImageId).toBe('img-e2e-ref');
    expect(pageErrors).toEqual([]);
  });
});
