/**
 * The gallery in headless Chromium with real IndexedDB: generated images survive a reload; a
 * downloaded PNG read by the project's own PNG reader carries the exact parameters; dropping a PNG
 * (ours or another tool's) on the studio restores its parameters; a record written by an older
 * studio (schema v1) is upgraded in place and shown.
 */
import { readFileSync } from 'node:fs';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, waitGenerated } from './fixtures/models';
import { encodePng, readPngText } from '../src/storage/png/png';
import { formatParameters, parseParameters } from '../src/storage/png/parameters';

test.setTimeout(240_000);

test('an image survives a reload; its PNG carries the exact parameters; reuse puts them back', async ({ page }) => {
  await page.goto('/');
  await importTinyModel(page);
  await fillGenerate(page, { prompt: 'a red fox in the snow, (detailed:1.2)', negative: 'blurry, lowres', width: 64, height: 48, steps: 2, seed: 4242 });
  await page.getByTestId('gen-scheduler').selectOption('euler_ancestral');
  await page.getByTestId('gen-guidanceScale').fill('6.5');
  await page.getByTestId('gen-batchCount').fill('2'); // a batch of two: seeds 4242 and 4243
  await page.getByTestId('gen-go').click();
  await waitGenerated(page);
  await page.waitForFunction(() => window.__studio?.gallery.count === 2);

  await page.reload();
  await studioReady(page);
  await page.waitForFunction(() => window.__studio?.gallery.loaded === true && window.__studio.gallery.count === 2);
  expect((await studioReady(page)).gallery.seeds).toEqual([4243, 4242]); // newest first
  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').last().click();
  await expect(page.getByTestId('gal-prompt')).toHaveText('a red fox in the snow, (detailed:1.2)');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('gal-download').click()]);
  expect(download.suggestedFilename()).toMatch(/^a-red-fox-in-the-snow-detailed-1-2-4242\.png$/);
  const png = new Uint8Array(readFileSync((await download.path())!));
  const params = parseParameters(readPngText(png).parameters!);
  expect(params).toEqual({
    prompt: 'a red fox in the snow, (detailed:1.2)',
    negativePrompt: 'blurry, lowres',
    steps: 2,
    scheduler: 'euler_ancestral',
    guidanceScale: 6.5,
    seed: 4242,
    width: 64,
    height: 48,
    model: 'tiny/sdxl',
    // A1111's short model hash (storage/loras/model-hash.ts: of the UNet file for a diffusers folder)
    modelHash: expect.stringMatching(/^[0-9a-f]{10}$/),
  });

  // reuse: change the draft, then "Reuse parameters" restores it
  await openSection(page, 'Generate');
  await page.getByTestId('gen-prompt').fill('something else');
  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').last().click();
  await page.getByTestId('gal-reuse').click();
  await expect(page.getByTestId('gen-prompt')).toHaveValue('a red fox in the snow, (detailed:1.2)');
  const d = (await studioReady(page)).generation.draft;
  expect([d.seed, d.seedLocked, d.steps, d.guidanceScale, d.scheduler, d.width, d.height]).toEqual([4242, true, 2, 6.5, 'euler_ancestral', 64, 48]);
  await page.getByTestId('gen-batchCount').fill('1');

  // delete (confirmed) removes it, also after a reload
  page.on('dialog', (dlg) => void dlg.accept());
  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').first().click();
  await page.getByTestId('gal-delete').click();
  await page.waitForFunction(() => window.__studio?.gallery.count === 1);
  await page.reload();
  await studioReady(page);
  await page.waitForFunction(() => window.__studio?.gallery.loaded === true);
  expect((await studioReady(page)).gallery.seeds).toEqual([4242]);
});

test('dropping a PNG from another SD tool restores its parameters', async ({ page }) => {
  await page.goto('/');
  await studioReady(page);
  const text =
    'masterpiece, a castle on a hill\nNegative prompt: ugly, jpeg artifacts\n' +
    'Steps: 24, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 123456, Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0';
  const png = await encodePng(new Uint8ClampedArray(4 * 4 * 4).fill(200), 4, 4, { parameters: text });
  const dt = await page.evaluateHandle((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const t = new DataTransfer();
    t.items.add(new File([bytes], 'castle.png', { type: 'image/png' }));
    return t;
  }, Buffer.from(png).toString('base64'));
  await page.dispatchEvent('main', 'dragover', { dataTransfer: dt });
  await page.dispatchEvent('main', 'drop', { dataTransfer: dt });
  await expect(page.getByTestId('notice')).toContainText('Parameters loaded from castle.png');
  await expect(page.getByTestId('gen-prompt')).toHaveValue('masterpiece, a castle on a hill');
  await expect(page.getByTestId('gen-negative')).toHaveValue('ugly, jpeg artifacts');
  const d = (await studioReady(page)).generation.draft;
  expect([d.steps, d.scheduler, d.guidanceScale, d.seed, d.width, d.height, d.seedLocked]).toEqual([24, 'dpmpp_2m_karras', 7, 123456, 832, 1216, true]);
  // the studio's own format round-trips through the same path
  expect(parseParameters(formatParameters(parseParameters(text))).prompt).toBe('masterpiece, a castle on a hill');
});

test('a gallery record of an older studio (schema v1) is upgraded in place and shown', async ({ page }) => {
  await page.goto('/');
  await studioReady(page);
  await page.waitForFunction(() => window.__studio?.gallery.loaded === true);
  const png = await encodePng(new Uint8ClampedArray(8 * 8 * 4).fill(90), 8, 8);
  await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const db = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open('cidm-gallery');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const v1 = { v: 1, id: 'img-old', createdAt: 1, prompt: 'an old cat', negative: 'dog', seed: 9, steps: 20, cfg: 6, sampler: 'euler', width: 8, height: 8, model: 'sdxl', png: new Blob([bytes], { type: 'image/png' }) };
    await new Promise<void>((res, rej) => {
      const tx = db.transaction('images', 'readwrite');
      tx.objectStore('images').put(v1, 'img-old');
      tx.oncomplete = () => res();
      tx.onerror = () => rej(tx.error);
    });
    db.close();
  }, Buffer.from(png).toString('base64'));
  await page.reload();
  await studioReady(page);
  await page.waitForFunction(() => window.__studio?.gallery.ids.includes('img-old'));
  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').first().click();
  await expect(page.getByTestId('gal-prompt')).toHaveText('an old cat');
  const stored = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((res) => {
      const r = indexedDB.open('cidm-gallery');
      r.onsuccess = () => res(r.result);
    });
    const rec = await new Promise<{ v: number; params: { prompt: string; guidanceScale: number } }>((res) => {
      const g = db.transaction('images').objectStore('images').get('img-old');
      g.onsuccess = () => res(g.result);
    });
    db.close();
    return rec;
  });
  expect(stored.v).toBe(2);
  expect(stored.params).toMatchObject({ prompt: 'an old cat', guidanceScale: 6 });
});
