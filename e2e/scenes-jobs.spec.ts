/**
 * Scenes are jobs of their own (issue 13 point 5): a scene with two painted regions and its own steps,
 * CFG and locked seed generates from the Scenes page without leaving it (queue row "Scene: <name>",
 * step progress, the image on the page and in the gallery); after the scene is edited and saved, the
 * gallery's "Send to Scenes" brings back the scene the image was made from, beside the edited one.
 * And the canvas zooms with Ctrl + wheel only: a plain wheel is left to the page.
 */
import { expect, openSection, test } from './fixtures/studio';
import { importTinyModel, waitGenerated } from './fixtures/models';
import { activeLayer, dragOnStage, sceneBridge } from './fixtures/scenes';

test.setTimeout(300_000);

test('a scene runs as its own job on the Scenes page, and a scene’s image restores the scene from the gallery', async ({ page, pageErrors }) => {
  await page.goto('/');
  await importTinyModel(page);
  await openSection(page, 'Scenes');
  await expect(page.getByTestId('scenes-page')).toBeVisible();

  // the wheel: plain scrolls the page (not prevented, no zoom); Ctrl + wheel zooms the canvas
  await page.evaluate(() => window.addEventListener('wheel', (e) => ((window as unknown as { wheelPrevented: boolean }).wheelPrevented = e.defaultPrevented)));
  const zoom = page.getByTestId('sc-zoom');
  const stage = (await page.getByTestId('sc-stage').boundingBox())!;
  await page.mouse.move(stage.x + stage.width / 2, stage.y + stage.height / 2);
  await page.mouse.wheel(0, -240);
  await expect.poll(() => page.evaluate(() => (window as unknown as { wheelPrevented?: boolean }).wheelPrevented)).toBe(false);
  await expect(zoom).toHaveText('100%');
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -240);
  await page.keyboard.up('Control');
  await expect(zoom).not.toHaveText('100%');
  await zoom.click(); // fit again, so the drags below land where they mean
  await expect(zoom).toHaveText('100%');

  // the scene: two painted regions, its own steps, CFG and locked seed
  await page.getByTestId('sc-size').selectOption('256x256');
  await expect.poll(async () => (await sceneBridge(page)).width).toBe(256);
  await page.getByTestId('sc-name').fill('Fox and bird');
  await page.getByTestId('sc-global-prompt').fill('a meadow at noon');
  await activeLayer(page).getByLabel('Layer name').fill('Fox');
  await activeLayer(page).getByLabel('Region prompt').fill('a red fox');
  await page.getByTestId('sc-tool-rect').click();
  await dragOnStage(page, [16, 96], [120, 240]);
  await page.getByTestId('sc-layer-add').click();
  await activeLayer(page).getByLabel('Layer name').fill('Bird');
  await activeLayer(page).getByLabel('Region prompt').fill('a blue bird');
  await activeLayer(page).getByLabel('Region negative prompt').fill('cage');
  await dragOnStage(page, [150, 16], [240, 100]);
  await page.getByTestId('sc-steps').fill('2');
  await page.getByTestId('sc-region-guidance').fill('6');
  await page.getByTestId('sc-seed').fill('77');
  await expect(page.getByTestId('sc-seed-lock')).toBeChecked();
  await page.getByTestId('sc-save').click();
  await expect(page.getByTestId('sc-save-state')).toHaveText('Saved');
  const painted = await sceneBridge(page);
  expect(painted.run).toMatchObject({ steps: 2, guidanceScale: 6, seed: 77, seedLocked: true });
  expect(painted.ownRun).toBe(true);

  // record every step count the run pane shows (the tiny model's steps are quick)
  await page.evaluate(() => {
    const seen: string[] = ((window as unknown as { stepsSeen: string[] }).stepsSeen = []);
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid="sc-run-steps"]')?.textContent;
      if (t && !seen.includes(t)) seen.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId('sc-generate').click();
  // queued under the scene's name, in the header, while it runs
  await page.getByTestId('jobs-chip').click();
  await expect(page.getByTestId('job-row').first()).toContainText('Scene: Fox and bird');
  await waitGenerated(page, 240_000);
  await expect(page.getByTestId('scenes-page')).toBeVisible();
  await expect(page.getByTestId('sc-run-status')).toContainText('Done (seed 77)');
  await expect(page.getByTestId('sc-run-image')).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { stepsSeen: string[] }).stepsSeen)).toContain('step 2/2');
  const s = await page.evaluate(() => window.__studio!);
  expect(s.generation.result).toMatchObject({ width: 256, height: 256, seed: 77 });
  await page.waitForFunction(() => window.__studio?.gallery.count === 1);

  // edit the scene (delete a region) and save it: the saved scene is no longer the image's
  await page.getByRole('button', { name: 'Delete Bird' }).click();
  await page.getByTestId('sc-save').click();
  await expect(page.getByTestId('sc-save-state')).toHaveText('Saved');
  expect((await sceneBridge(page)).layers.map((l) => l.name)).toEqual(['Fox']);

  // the gallery names the scene; Send to Scenes restores it beside the edited one
  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').first().click();
  await expect(page.getByTestId('gal-scene')).toHaveText('Scene: Fox and bird · 2 regions');
  await page.getByTestId('gal-send-scenes').click();
  await expect(page.getByTestId('scenes-page')).toBeVisible();
  await expect.poll(async () => (await sceneBridge(page)).name).toBe('Fox and bird (restored)');
  const restored = await sceneBridge(page);
  expect(restored.sceneId).not.toBe(painted.sceneId);
  expect(restored.layers.map((l) => [l.name, l.prompt, l.negativePrompt, l.checksum])).toEqual(painted.layers.map((l) => [l.name, l.prompt, l.negativePrompt, l.checksum]));
  expect([restored.width, restored.height, restored.globalPrompt]).toEqual([256, 256, 'a meadow at noon']);
  expect(restored.run).toEqual(painted.run);
  expect(restored.dirty).toBe(true);
  await expect(page.getByTestId('sc-seed')).toHaveValue('77');
  await expect(page.getByTestId('sc-steps')).toHaveValue('2');
  // the edited scene is untouched
  expect(restored.saved.find((x) => x.id === painted.sceneId)).toMatchObject({ name: 'Fox and bird', layerCount: 1 });
  expect(pageErrors).toEqual([]);
});
