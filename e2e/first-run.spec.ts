/**
 * First run (issue 13, point 4): a fresh profile at 1280×720 sees, above the fold on every page that
 * needs a model, what to do first with a button that opens Models (import field focused); once the tiny
 * model is imported, Generate and Scenes name it and their pickers list it.
 */
import type { Locator } from '@playwright/test';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { importTinyModel, TINY_ID } from './fixtures/models';

test.use({ viewport: { width: 1280, height: 720 } });
test.setTimeout(180_000);

const SHOTS = process.env.E2E_SHOTS_DIR;

async function inViewport(l: Locator): Promise<void> {
  await expect(l).toBeVisible();
  const box = (await l.boundingBox())!;
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.y + box.height).toBeLessThanOrEqual(720);
}

test('an empty studio says what to do first; after an import Generate names the model and lists it', async ({ page, pageErrors }) => {
  await page.goto('/');
  await studioReady(page);
  await page.waitForFunction(() => window.__studio?.modelsLoaded === true);

  // Generate is the first page: the card and its button sit above the fold
  await inViewport(page.getByTestId('first-step'));
  await inViewport(page.getByTestId('first-step-go'));
  await expect(page.getByTestId('first-step')).toHaveAttribute('data-step', 'import');
  await expect(page.getByTestId('gen-go')).toBeDisabled();
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/generate-empty.png` });
  for (const section of ['Scenes', 'Concepts']) {
    await openSection(page, section);
    await inViewport(page.getByTestId('first-step-go'));
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/${section.toLowerCase()}-empty.png` });
  }

  // the button opens Models with the import field focused and highlighted
  await page.getByTestId('first-step-go').click();
  await expect(page.getByRole('heading', { level: 1, name: 'Models' })).toBeVisible();
  await expect(page.getByTestId('import-source')).toBeFocused();
  await expect(page.locator('.models-import')).toHaveAttribute('data-first-step', 'true');
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/models-first-step.png` });

  await importTinyModel(page);
  const name = await page.evaluate((id) => window.__studio!.models.find((m) => m.id === id)!.name, TINY_ID);

  await openSection(page, 'Generate');
  await expect(page.getByTestId('first-step')).toHaveCount(0);
  await expect(page.getByTestId('gen-model')).toHaveText(`Model: ${name}`);
  const picker = page.getByTestId('gen-model-picker');
  await inViewport(picker);
  await expect(picker).toHaveValue(TINY_ID);
  await expect(picker.locator('option')).toHaveText([new RegExp(`^${name}`)]);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/generate-model.png` });

  await openSection(page, 'Scenes');
  await expect(page.getByTestId('sc-model-picker')).toHaveValue(TINY_ID);
  await expect(page.getByTestId('sc-model')).toHaveText(`Generates with ${name}.`);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/scenes-model.png` });
  expect(pageErrors).toEqual([]);
});
