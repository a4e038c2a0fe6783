/**
 * The studio at 1280×720 and on a wide screen: nothing overflows sideways, and the output area keeps
 * its box from before the run to the finished image (no layout jump while generating).
 */
import type { Page } from '@playwright/test';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, waitGenerated } from './fixtures/models';

test.setTimeout(240_000);

const noSideScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

for (const size of [{ width: 1280, height: 720 }, { width: 2560, height: 1440 }]) {
  test(`every section fits ${size.width}×${size.height} without sideways scrolling`, async ({ page }) => {
    await page.setViewportSize(size);
    await page.goto('/');
    await studioReady(page);
    for (const name of ['Generate', 'Scenes', 'Gallery', 'Models', 'Settings', 'GPU']) {
      await openSection(page, name);
      expect(await noSideScroll(page), `${name} at ${size.width}×${size.height}`).toBe(true);
    }
  });
}

test('the output area does not jump while generating (1280×720)', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/');
  await importTinyModel(page);
  await fillGenerate(page, { prompt: 'a lighthouse at dusk', width: 64, height: 48, steps: 4 });
  const stage = page.getByTestId('gen-stage');
  const before = (await stage.boundingBox())!;
  await page.getByTestId('gen-go').click();
  await page.waitForFunction(() => (window.__studio?.generation.step ?? 0) >= 2, undefined, { timeout: 120_000 });
  const during = (await stage.boundingBox())!;
  await waitGenerated(page);
  await expect(page.getByTestId('gen-image')).toBeVisible();
  const after = (await stage.boundingBox())!;
  for (const b of [during, after]) {
    expect(Math.abs(b.width - before.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(b.height - before.height)).toBeLessThanOrEqual(1);
    expect(Math.abs(b.x - before.x)).toBeLessThanOrEqual(1);
  }
  expect(await noSideScroll(page)).toBe(true);
});
