/**
 * The concept library and composing with concepts, end to end (issue 11 points 3–6 and the compose
 * part of point 8), with the tiny model in headless Chromium:
 *  - import concept files (e2e/fixtures/concepts, made by scripts/make-e2e-concept.mjs): a bad file is
 *    refused by name, a concept of another model is imported but marked, Rex of the tiny model is listed;
 *  - search, rename; the forgetting dashboard lists an imported concept (no photos) as not scored, and
 *    draws a kept result (heat map relative to each concept's own diagonal, line chart, out of date);
 *  - the Generate prompt's autocomplete ("<re" → Enter) writes "<rex1> <rex2> dog"; the image with the
 *    concept in the library differs from the same prompt and seed once it is deleted, and is the same
 *    again after it is re-imported from its own export (which is the fixture's bytes, bit for bit);
 *  - a Scenes region picks the concept from its picker and generates; without it the image differs;
 *  - the LoRA (kohya names) and embedding (clip_l / clip_g) exports download;
 *  - nothing leaves the machine (the request log).
 */
import { readFileSync } from 'node:fs';
import type { Download, Page } from '@playwright/test';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, waitGenerated } from './fixtures/models';
import { activeLayer, dragOnStage } from './fixtures/scenes';

test.setTimeout(900_000);

const FIX = 'e2e/fixtures/concepts';
const REX = `${FIX}/rex.cidm.safetensors`;
const OTHER = `${FIX}/other-model.cidm.safetensors`;
const SHOTS = process.env.CONCEPTS_SHOTS ?? '/tmp/concepts-compose';

const imageData = (page: Page, testId = 'gen-image') => page.getByTestId(testId).evaluate((c: HTMLCanvasElement) => c.toDataURL());
const card = (page: Page, name: string) => page.getByTestId('concept-card').filter({ has: page.getByTestId('concept-name').getByText(name, { exact: true }) });

/** A valid safetensors file that is not a concept (no format tag). */
function plainSafetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }).padEnd(64, ' '));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(4)]);
}

/** The tensor names of a downloaded safetensors file. */
function tensorNames(bytes: Buffer): string[] {
  const n = Number(bytes.readBigUInt64LE(0));
  return Object.keys(JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as object).filter((k) => k !== '__metadata__');
}

/**
 * A forgetting result as the dashboard keeps it (storage/concepts/library-extra.ts: idb-keyval database
 * "cidm-forgetting", store "results", keyed by model id), for a 3-task library A, B (no photos), C.
 */
async function storeForgettingResult(page: Page): Promise<void> {
  await page.evaluate(async (modelId) => {
    const entry = {
      v: 1,
      modelId,
      version: 'a library of three tasks',
      computedAt: Date.UTC(2025, 0, 5, 12),
      result: { conceptIds: ['a', 'b', 'c'], matrix: [[0.2, null, null], [0.22, null, null], [0.25, null, 0.4]] },
      names: { a: 'A', b: 'B', c: 'C' },
      tasks: { a: 1, b: 2, c: 3 },
      unscored: ['b'],
      seed: 2024,
    };
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('cidm-forgetting');
      r.onupgradeneeded = () => r.result.createObjectStore('results');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('results', 'readwrite');
      tx.objectStore('results').put(entry, modelId);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, 'tiny--sdxl');
}

async function importFiles(page: Page, files: { name: string; buffer: Buffer }[]): Promise<void> {
  await page.getByTestId('concept-import-file').setInputFiles(files.map((f) => ({ ...f, mimeType: 'application/octet-stream' })));
}

async function download(page: Page, click: () => Promise<void>): Promise<{ d: Download; bytes: Buffer }> {
  const [d] = await Promise.all([page.waitForEvent('download'), click()]);
  return { d, bytes: readFileSync((await d.path())!) };
}

async function generateNow(page: Page): Promise<string> {
  await page.getByTestId('gen-go').click();
  await waitGenerated(page, 240_000);
  const s = await studioReady(page);
  expect(s.generation.error).toBeNull();
  expect(s.generation.phase).toBe('done');
  return imageData(page);
}

async function openLibrary(page: Page): Promise<void> {
  await openSection(page, 'Concepts');
  await page.getByTestId('concepts-tab-library').click();
  await expect(page.getByTestId('concept-library')).toBeVisible();
}

test('library, autocomplete, regions and export → delete → re-import give the same image', async ({ page, pageErrors, externalRequests }) => {
  await page.goto('/');
  await importTinyModel(page);
  await openLibrary(page);
  await expect(page.getByTestId('concept-count')).toHaveText(/^0 concepts/);

  // ---- import: bad files are refused by name ----
  await importFiles(page, [{ name: 'plain.safetensors', buffer: plainSafetensors() }]);
  await expect(page.getByTestId('concept-message')).toHaveAttribute('role', 'alert');
  await expect(page.getByTestId('concept-message')).toContainText('Not a concept file');
  await expect(page.getByTestId('concept-message')).toContainText('plain.safetensors');
  const rexBytes = readFileSync(REX);
  await importFiles(page, [{ name: 'cut.cidm.safetensors', buffer: rexBytes.subarray(0, rexBytes.length >> 1) }]);
  await expect(page.getByTestId('concept-message')).toContainText('The file is incomplete');
  await expect(page.getByTestId('concept-count')).toHaveText(/^0 concepts/);

  // ---- a concept of another model: imported, said so, and marked ----
  await importFiles(page, [{ name: 'other-model.cidm.safetensors', buffer: readFileSync(OTHER) }]);
  await expect(page.getByTestId('concept-message')).toContainText('a concept of model "other--sdxl" (not in this studio)');
  await expect(page.getByTestId('concept-list-other').getByTestId('concept-card')).toHaveCount(1);
  await expect(card(page, 'Moss').getByTestId('concept-other-model')).toContainText('other--sdxl');

  // ---- Rex of the tiny model ----
  await importFiles(page, [{ name: 'rex.cidm.safetensors', buffer: rexBytes }]);
  await expect(page.getByTestId('concept-message')).toHaveText(/Imported "Rex": name it in a prompt as <rex1> <rex2> dog\./);
  await expect(page.getByTestId('concept-list').getByTestId('concept-card')).toHaveCount(1);
  await expect(card(page, 'Rex').getByTestId('concept-phrase')).toHaveText('<rex1> <rex2> dog');
  await expect(page.getByTestId('concept-count')).toHaveText(/^2 concepts/);
  // the same file again: nothing duplicated
  await importFiles(page, [{ name: 'rex.cidm.safetensors', buffer: rexBytes }]);
  await expect(page.getByTestId('concept-message')).toContainText('already in the library');
  await expect(page.getByTestId('concept-card')).toHaveCount(2);
  await page.screenshot({ path: `${SHOTS}-library.png`, fullPage: true });

  // ---- search ----
  await page.getByTestId('concept-search').fill('moss');
  await expect(page.getByTestId('concept-card')).toHaveCount(1);
  await expect(page.getByTestId('concept-name')).toHaveText('Moss');
  await page.getByTestId('concept-search').fill('rex2');
  await expect(page.getByTestId('concept-name')).toHaveText(['Rex']);
  await page.getByTestId('concept-search').fill('zebra');
  await expect(page.getByTestId('concept-none-found')).toBeVisible();
  await page.getByTestId('concept-search').fill('');
  await expect(page.getByTestId('concept-card')).toHaveCount(2);

  // ---- the dashboard: an imported concept has no photos, so it is not scored; a kept result is drawn ----
  await storeForgettingResult(page);
  await page.getByTestId('concepts-tab-forgetting').click();
  await expect(page.getByTestId('forgetting-dashboard')).toBeVisible();
  await expect(page.getByTestId('forgetting-unscored')).toContainText('Rex');
  await expect(page.getByTestId('forgetting-compute')).toBeDisabled();
  // the kept result was computed for another library (3 tasks), so it is out of date here
  await expect(page.getByTestId('forgetting-status')).toContainText('Out of date');
  const cells = page.getByTestId('forgetting-heatmap').getByTestId('forgetting-cell');
  await expect(cells).toHaveCount(9);
  await expect(cells.nth(0)).toHaveText('1.00×'); // the diagonal: its own loss when learned
  await expect(cells.nth(3)).toHaveText('1.10×'); // A after task 2: 0.22 / 0.20
  await expect(cells.nth(3)).toHaveAttribute('title', /A after task 2 \(B\): loss 0\.2200, 1\.10× its loss when learned \(0\.2000\)/);
  await expect(cells.nth(6)).toHaveText('1.25×');
  await expect(page.getByTestId('forgetting-heatmap').locator('th.is-unscored')).toContainText('not scored'); // B has no photos
  await expect(page.getByTestId('forgetting-chart').getByTestId('forgetting-line')).toHaveCount(2); // A and C
  await page.screenshot({ path: `${SHOTS}-forgetting.png`, fullPage: true });

  // ---- a word of another model's concept is refused by name, not read as plain text ----
  await fillGenerate(page, { prompt: 'a photo of <moss1> cat', seed: 77, steps: 3 });
  await page.getByTestId('gen-go').click();
  await expect(page.getByTestId('gen-error')).toContainText('ConceptModelMismatchError');
  await expect(page.getByTestId('gen-error')).toContainText('"<moss1>" of the concept "Moss"');

  // ---- Generate: the autocomplete writes the concept's phrase ----
  await fillGenerate(page, { prompt: 'a photo of ', seed: 77, steps: 3 });
  const prompt = page.getByTestId('gen-prompt');
  await prompt.focus();
  await prompt.press('End');
  await page.keyboard.type('<re');
  const list = page.getByTestId('concept-suggestions');
  await expect(list).toBeVisible();
  await expect(list.getByRole('option')).toHaveCount(1); // Moss is of another model
  await expect(list.getByRole('option').first()).toContainText('Rex');
  await expect(prompt).toHaveAttribute('aria-activedescendant', (await list.getByRole('option').first().getAttribute('id'))!);
  await page.screenshot({ path: `${SHOTS}-autocomplete.png` });
  await page.keyboard.press('Escape');
  await expect(list).toBeHidden();
  expect((await studioReady(page)).generation.phase).not.toBe('cancelled');
  await page.keyboard.type('x');
  await page.keyboard.press('Backspace');
  await expect(list).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(list).toBeHidden();
  await page.keyboard.type('on a beach');
  await expect(prompt).toHaveValue('a photo of <rex1> <rex2> dog on a beach');

  const withRex = await generateNow(page);

  // ---- the concept's three exports ----
  await openLibrary(page);
  const rexCard = card(page, 'Rex');
  const exported = await download(page, () => rexCard.getByTestId('concept-export-concept').click());
  expect(exported.d.suggestedFilename()).toBe('Rex.cidm.safetensors');
  expect(exported.bytes.equals(rexBytes)).toBe(true); // export of an import: the same file, bit for bit
  const lora = await download(page, () => rexCard.getByTestId('concept-export-lora').click());
  expect(lora.d.suggestedFilename()).toBe('Rex-lora.safetensors');
  const loraNames = tensorNames(lora.bytes);
  expect(loraNames.every((n) => n.startsWith('lora_unet_'))).toBe(true);
  expect(loraNames.some((n) => n.endsWith('_attn2_to_k.lora_down.weight'))).toBe(true);
  const emb = await download(page, () => rexCard.getByTestId('concept-export-embedding').click());
  expect(emb.d.suggestedFilename()).toBe('Rex.safetensors');
  expect(tensorNames(emb.bytes).sort()).toEqual(['clip_g', 'clip_l']);

  // ---- delete, saying what it means; the same prompt and seed now give another image ----
  await rexCard.getByTestId('concept-delete').click();
  const confirm = page.getByTestId('concept-delete-confirm');
  await expect(confirm).toContainText('Delete "Rex" (task 1)?');
  await expect(confirm).toContainText('No later task was trained against it.');
  await page.screenshot({ path: `${SHOTS}-delete.png`, fullPage: true });
  await page.getByTestId('concept-delete-yes').click();
  await expect(page.getByTestId('concept-card')).toHaveCount(1);
  await openSection(page, 'Generate');
  await expect(prompt).toHaveValue('a photo of <rex1> <rex2> dog on a beach');
  const withoutRex = await generateNow(page);
  expect(withoutRex).not.toBe(withRex);

  // ---- re-import its export: the same image for the same seed ----
  await openLibrary(page);
  await importFiles(page, [{ name: exported.d.suggestedFilename(), buffer: exported.bytes }]);
  await expect(page.getByTestId('concept-list').getByTestId('concept-card')).toHaveCount(1);
  await openSection(page, 'Generate');
  expect(await generateNow(page)).toBe(withRex);

  // ---- a Scenes region picks the concept ----
  await openSection(page, 'Scenes');
  await page.getByTestId('sc-size').selectOption('256x256');
  await page.getByTestId('sc-global-prompt').fill('a meadow at noon');
  await activeLayer(page).getByLabel('Layer name').fill('Dog');
  await activeLayer(page).getByLabel('Region prompt').fill('sitting on the grass');
  const pick = activeLayer(page).getByTestId('concept-picker').getByRole('button', { name: 'Rex' });
  await expect(pick).toHaveAttribute('aria-pressed', 'false');
  await pick.click();
  await expect(pick).toHaveAttribute('aria-pressed', 'true');
  await expect(activeLayer(page).getByLabel('Region prompt')).toHaveValue('sitting on the grass, <rex1> <rex2> dog');
  await page.getByTestId('sc-tool-rect').click();
  await dragOnStage(page, [24, 64], [200, 240]);
  await page.screenshot({ path: `${SHOTS}-region.png`, fullPage: true });
  await page.getByTestId('sc-generate').click();
  await waitGenerated(page, 300_000);
  let s = await studioReady(page);
  expect(s.generation.error).toBeNull();
  expect(s.generation.result).toMatchObject({ width: 256, height: 256, seed: 77 });
  // a scene's run shows on the Scenes page (issue 13 point 5)
  const regionWithRex = await imageData(page, 'sc-run-image');
  await openSection(page, 'Scenes');
  await pick.click();
  await expect(pick).toHaveAttribute('aria-pressed', 'false');
  await expect(activeLayer(page).getByLabel('Region prompt')).toHaveValue('sitting on the grass');
  await page.getByTestId('sc-generate').click();
  await waitGenerated(page, 300_000);
  s = await studioReady(page);
  expect(s.generation.error).toBeNull();
  expect(await imageData(page, 'sc-run-image')).not.toBe(regionWithRex);

  // ---- rename persists ----
  await openLibrary(page);
  await card(page, 'Rex').getByTestId('concept-rename').click();
  await page.getByTestId('concept-rename-input').fill('Rex the dog');
  await page.getByTestId('concept-rename-input').press('Enter');
  await expect(page.getByTestId('concept-list').getByTestId('concept-name')).toHaveText('Rex the dog');
  await page.reload();
  await studioReady(page);
  await openLibrary(page);
  await expect(page.getByTestId('concept-list').getByTestId('concept-name')).toHaveText('Rex the dog');

  expect(externalRequests.filter((u) => !u.startsWith('http://127.0.0.1:4180/'))).toEqual([]);
  expect(pageErrors).toEqual([]);
});
