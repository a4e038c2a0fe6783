/**
 * Plain LoRAs end to end (issue 13 point 1): a kohya LoRA file (golden/lora) imported on the Models
 * page is listed with A1111's hash; a file that is no LoRA is refused by name; `<lora:style:0.8>` in
 * the prompt generates (the tag cut out before the text encoders) an image that differs from the same
 * seed without it, and the gallery's PNG carries the
 * prompt with its tag, `Lora hashes` with that hash and `Model hash`; an unknown name is refused by name.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, waitGenerated } from './fixtures/models';
import { readPngText } from '../src/storage/png/png';
import { parseParameters } from '../src/storage/png/parameters';

test.setTimeout(300_000);

const LORA = readFileSync('golden/lora/lora_kohya.safetensors');
const header = Number(LORA.readBigUInt64LE(0));
// A1111: the first 12 hex of the SHA-256 of the bytes after the header (extensions-builtin/Lora/network.py)
const A1111_HASH = createHash('sha256').update(LORA.subarray(8 + header)).digest('hex').slice(0, 12);

test('import a LoRA → listed → generate with <lora:style:0.8> → the PNG has Lora hashes', async ({ page }) => {
  await page.goto('/');
  await importTinyModel(page);
  await page.getByTestId('lora-import-input').setInputFiles([
    { name: 'style.safetensors', mimeType: 'application/octet-stream', buffer: LORA },
    { name: 'notes.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a safetensors file at all') },
  ]);
  await expect(page.getByTestId('lora-row')).toHaveCount(1);
  await expect(page.getByTestId('lora-name')).toHaveText('style');
  await expect(page.getByTestId('lora-hash')).toHaveText(A1111_HASH);
  await expect(page.getByTestId('lora-error')).toContainText('notes.safetensors');

  // an unknown name is refused by name before anything runs
  await fillGenerate(page, { prompt: 'a red cube <lora:nope:1>', steps: 2, seed: 5 });
  await page.getByTestId('gen-go').click();
  await waitGenerated(page);
  expect((await studioReady(page)).generation.error?.message).toMatch(/"nope".*imported: style/);

  // the same seed without the LoRA, to see that the LoRA changes the image
  const pixels = () => page.getByTestId('gen-image').evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));
  await page.getByTestId('gen-prompt').fill('a red cube');
  await page.getByTestId('gen-go').click();
  await waitGenerated(page);
  expect((await studioReady(page)).generation.error).toBeNull();
  const without = await pixels();

  await page.getByTestId('lora-weight').fill('0.8');
  await page.getByTestId('lora-add').click();
  await expect(page.getByTestId('gen-prompt')).toHaveValue('a red cube <lora:style:0.8>');
  await page.getByTestId('gen-go').click();
  await waitGenerated(page);
  const s = await studioReady(page);
  expect(s.generation.error).toBeNull();
  const withLora = await pixels();
  expect(withLora.length).toBe(without.length);
  expect(withLora.filter((v, i) => v !== without[i]).length).toBeGreaterThan(withLora.length / 10);
  await page.waitForFunction(() => window.__studio?.gallery.count === 2);

  await openSection(page, 'Gallery');
  await page.getByTestId('gal-item').first().click(); // newest first: the LoRA run
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('gal-download').click()]);
  const text = readPngText(new Uint8Array(readFileSync((await download.path())!))).parameters!;
  expect(text).toContain(`Lora hashes: "style: ${A1111_HASH}"`);
  const params = parseParameters(text);
  expect(params.prompt).toBe('a red cube <lora:style:0.8>');
  expect(params.loraHashes).toEqual([{ name: 'style', hash: A1111_HASH }]);
  expect(params.modelHash).toMatch(/^[0-9a-f]{10}$/);
});
