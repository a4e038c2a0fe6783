/**
 * The gallery's power tools in headless Chromium (issue 13 point 6), on two images of the tiny model:
 * search by prompt, sort by date, the full-size viewer (zoom by button, key and Ctrl+wheel; Esc gives
 * focus back), copy buttons read back from the real clipboard (and a refusal said plainly), then both
 * images ticked → one zip (read back: two PNGs, their parameters intact) → deleted together after a
 * confirm, also after a reload. E2E_SHOTS_DIR=<dir> saves screenshots along the way.
 */
import { readFileSync } from 'node:fs';
import { expect, openSection, STACK_TRACE, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel } from './fixtures/models';
import { readZip } from '../src/storage/zip/zip-reader';
import { readPngText } from '../src/storage/png/png';
import { parseParameters } from '../src/storage/png/parameters';

test.setTimeout(300_000);

const SHOTS = process.env.E2E_SHOTS_DIR;
// long enough to wrap several lines, with a 60-character word that must wrap too, never be cut
const FOX = 'a red fox in the snow at dawn, soft rim light, frost on every whisker, ultra-detailed-fur-texture-with-frost-and-tiny-ice-crystals, (masterpiece:1.2), 35mm photograph, shallow depth of field, bokeh of pine trees behind';
const CASTLE = 'a castle on a hill';
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

test('search, sort, full-size zoom, copy, zip download and multi-delete', async ({ page, context, baseURL, pageErrors }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await page.goto('/');
  await importTinyModel(page);
  await fillGenerate(page, { prompt: FOX, negative: 'blurry, lowres', width: 64, height: 48, steps: 2, seed: 11 });
  await page.getByTestId('gen-go').click();
  await page.waitForFunction(() => window.__studio?.gallery.count === 1, undefined, { timeout: 120_000 });
  await fillGenerate(page, { prompt: CASTLE, width: 64, height: 48, steps: 2, seed: 22 });
  await page.getByTestId('gen-go').click();
  await page.waitForFunction(() => window.__studio?.gallery.count === 2, undefined, { timeout: 120_000 });

  await openSection(page, 'Gallery');
  const tiles = page.getByTestId('gal-item');
  await expect(page.getByTestId('gal-count')).toHaveText('2 images');

  // search: case-insensitive, over the prompt and the negative prompt, with a count; nothing found says so
  const search = page.getByTestId('gal-search');
  await search.fill('CASTLE');
  await expect(tiles).toHaveCount(1);
  await expect(tiles.first()).toHaveAttribute('title', CASTLE);
  await expect(page.getByTestId('gal-count')).toHaveText('1 of 2 images');
  await search.fill('lowres');
  await expect(tiles).toHaveCount(1);
  await expect(tiles.first()).toHaveAttribute('title', FOX);
  await search.fill('a unicorn');
  await expect(tiles).toHaveCount(0);
  await expect(page.getByTestId('gal-no-match')).toHaveText('No image’s prompt or negative prompt contains “a unicorn”.');
  await search.fill('');
  await expect(tiles).toHaveCount(2);

  // sort: newest first by default, then oldest first
  await expect(tiles.first()).toHaveAttribute('title', CASTLE);
  await page.getByTestId('gal-order').selectOption('oldest');
  await expect(tiles.first()).toHaveAttribute('title', FOX);
  await expect(tiles.last()).toHaveAttribute('title', CASTLE);

  // the detail shows the whole prompt (wrapped, inside its card)
  await tiles.first().click();
  await expect(page.getByTestId('gal-prompt')).toHaveText(FOX);
  const fits = await page.getByTestId('gal-prompt').evaluate((p) => p.scrollWidth <= p.clientWidth && p.getBoundingClientRect().right <= p.closest('section')!.getBoundingClientRect().right);
  expect(fits).toBe(true);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/gallery-detail.png`, fullPage: true });

  // copy buttons, read back from the clipboard
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  await page.getByTestId('gal-copy-seed').click();
  await expect(page.getByTestId('gal-copy-seed')).toHaveText('Copied');
  expect(await clipboard()).toBe('11');
  await page.getByTestId('gal-copy-negative').click();
  expect(await clipboard()).toBe('blurry, lowres');
  await page.getByTestId('gal-copy-all').click();
  await expect(page.getByTestId('gal-copy-all')).toHaveText('Copied');
  const copiedAll = await clipboard();
  expect(parseParameters(copiedAll)).toMatchObject({ prompt: FOX, negativePrompt: 'blurry, lowres', seed: 11, steps: 2, width: 64, height: 48 });

  // a refused clipboard is said in a sentence, not as the browser's exception
  await page.evaluate(() => {
    navigator.clipboard.writeText = () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));
  });
  await page.getByTestId('gal-copy-prompt').click();
  await expect(page.getByTestId('gal-copy-note')).toHaveText(/^The browser did not allow copying to the clipboard\./);
  await expect(page.getByTestId('gal-copy-note')).not.toContainText('denied');
  expect(await page.locator('main').innerText()).not.toMatch(STACK_TRACE);

  // full size: a modal dialog at 100%, zoom by button, key and Ctrl+wheel, Esc closes, focus returns
  await page.getByTestId('gal-view').click();
  const viewer = page.getByRole('dialog', { name: /^Full-size image: a red fox/ });
  await expect(viewer).toBeVisible();
  await expect(viewer).toHaveAttribute('aria-modal', 'true');
  await expect(page.getByTestId('gal-viewer-view')).toBeFocused();
  const img = page.getByTestId('gal-viewer-img');
  const imgWidth = () => img.evaluate((i: HTMLImageElement) => i.getBoundingClientRect().width);
  await expect(page.getByTestId('gal-viewer-zoom')).toHaveText('100%');
  expect(await imgWidth()).toBe(64);
  await page.getByTestId('gal-viewer-in').click();
  await expect(page.getByTestId('gal-viewer-zoom')).toHaveText('150%');
  await page.keyboard.press('+');
  await expect(page.getByTestId('gal-viewer-zoom')).toHaveText('200%');
  expect(await imgWidth()).toBe(128);
  const box = (await page.getByTestId('gal-viewer-view').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -120);
  await page.keyboard.up('Control');
  await expect(page.getByTestId('gal-viewer-zoom')).toHaveText('300%');
  await page.keyboard.press('-');
  await expect(page.getByTestId('gal-viewer-zoom')).toHaveText('200%');
  await page.getByTestId('gal-viewer-fit').click();
  await expect(page.getByTestId('gal-viewer-fit')).toHaveAttribute('aria-pressed', 'true');
  expect(await imgWidth()).toBeGreaterThan(64 * 8); // the 64×48 image scaled up to the window
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/gallery-viewer-fit.png` });
  // larger than the window (3200%: 2048×1536 px): dragging pans it
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  await expect(page.getByTestId('gal-viewer-zoom')).toHaveText('3200%');
  const view = page.getByTestId('gal-viewer-view');
  const scrolled = () => view.evaluate((v) => [v.scrollLeft, v.scrollTop]);
  const [left0, top0] = await scrolled();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 - 200, box.y + box.height / 2 - 100, { steps: 4 });
  await page.mouse.up();
  const [left1, top1] = await scrolled();
  expect(Math.abs(left1! - left0! - 200)).toBeLessThanOrEqual(1);
  expect(Math.abs(top1! - top0! - 100)).toBeLessThanOrEqual(1);
  await page.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);
  await expect(page.getByTestId('gal-view')).toBeFocused();

  // multi-select: a shift-click ticks the range; then both go into one zip
  const checks = page.getByTestId('gal-check');
  await checks.first().click();
  await expect(page.getByTestId('gal-selected-count')).toHaveText('1 selected');
  await checks.last().click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('gal-selected-count')).toHaveText('2 selected');
  await page.getByTestId('gal-select-none').click();
  await expect(page.getByTestId('gal-selection')).toHaveCount(0);
  await page.getByTestId('gal-select-all').click();
  await expect(page.getByTestId('gal-zip')).toHaveText('Download 2 as zip');
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/gallery-selected.png`, fullPage: true });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('gal-zip').click()]);
  expect(download.suggestedFilename()).toMatch(/^cidm-gallery-2-images-\d{4}-\d{2}-\d{2}\.zip$/);
  const entries = readZip(new Uint8Array(readFileSync((await download.path())!)));
  expect(entries).toHaveLength(2);
  for (const e of entries) {
    expect(e.name).toMatch(/\.png$/);
    expect(Array.from(e.data.subarray(0, 8))).toEqual(PNG_SIGNATURE);
  }
  const texts = entries.map((e) => readPngText(e.data).parameters!);
  expect(texts.map((t) => parseParameters(t).prompt)).toEqual([FOX, CASTLE]); // the order shown
  expect(texts[0]).toBe(copiedAll); // "Copy all" is exactly the text the PNG carries
  expect(entries[1]!.name).toBe('a-castle-on-a-hill-22.png');

  // delete both after a confirm that says what goes and that it is final; gone after a reload too
  const questions: string[] = [];
  page.on('dialog', (d) => {
    questions.push(d.message());
    void d.accept();
  });
  await page.getByTestId('gal-delete-selected').click();
  await page.waitForFunction(() => window.__studio?.gallery.count === 0);
  expect(questions).toHaveLength(1);
  expect(questions[0]).toMatch(/^Delete 2 images from the gallery\?/);
  expect(questions[0]).toContain('(seed 22)');
  expect(questions[0]).toContain('This cannot be undone.');
  await expect(page.getByText('Nothing yet: images you generate appear here.')).toBeVisible();
  await expect(page.getByTestId('gal-detail')).toHaveCount(0);
  await page.reload();
  await studioReady(page);
  await page.waitForFunction(() => window.__studio?.gallery.loaded === true);
  expect((await studioReady(page)).gallery.count).toBe(0);

  expect(pageErrors).toEqual([]);
});
