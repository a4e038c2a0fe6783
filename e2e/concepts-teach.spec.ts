/**
 * Teaching a concept end to end in headless Chromium (SwiftShader WebGPU, the tiny golden SDXL):
 * photos dropped (an undecodable one refused by name, too few explained), a crop moved, a subject mask
 * painted, the concept's words and the smallest training size the tiny model allows (from its configs),
 * then training as a job with progress, a loss chart and a preview; a reload mid-training resumes from
 * the last checkpoint by itself; at the end the concept is in the library (IndexedDB, and on the page)
 * and the job and its checkpoints are gone. The request log shows that no photo left the page: from the
 * drop to the end, only GETs of the studio's own files.
 */
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, TINY_ID, waitGenerated } from './fixtures/models';
import { brokenPhoto, dropFiles, makeTestPhotos, storedConcepts, storedKeys, withExifOrientation } from './fixtures/teach-photos';

test.setTimeout(600_000);

test('teach: drop, crop, mask, train with progress and preview, resume after a reload, saved in the library; no photo leaves', async ({ page, pageErrors, baseURL }) => {
  await page.goto('/');
  await importTinyModel(page);
  const origin = new URL(baseURL ?? 'http://127.0.0.1:4173').origin;
  const requests: { url: string; method: string }[] = [];
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method() }));

  await openSection(page, 'Concepts');
  await expect(page.getByTestId('concepts-tab-teach')).toHaveAttribute('aria-selected', 'true');
  const made = await makeTestPhotos(page, ['png', 'jpeg', 'webp']);
  // the JPEG says "rotate 90°" in its EXIF: decoded upright, it is 72×96, not 96×72
  const photos = [made[0]!, withExifOrientation(made[1]!, 6), made[2]!];

  // two photos and a file the browser cannot decode: refused by name, the others kept; too few explained
  await dropFiles(page, 'teach-drop', [photos[0]!, brokenPhoto('broken.jpg'), photos[1]!]);
  await expect(page.getByTestId('teach-refused')).toContainText('broken.jpg');
  await expect(page.getByTestId('teach-refused')).not.toContainText('subject-');
  await expect(page.getByTestId('teach-photo')).toHaveCount(2);
  await expect(page.getByTestId('teach-photos-error')).toContainText('add at least 1 more');
  await page.screenshot({ path: '/tmp/concepts-drop.png' });
  await dropFiles(page, 'teach-drop', [photos[2]!]);
  await expect(page.getByTestId('teach-photo')).toHaveCount(3);
  await expect(page.getByTestId('teach-photos-error')).toHaveCount(0);
  await page.getByTestId('teach-photo').nth(1).click();
  await expect(page.getByTestId('teach-editor')).toHaveAttribute('data-crop', '0,12,72'); // portrait: the square slides vertically
  await page.getByTestId('teach-photo').nth(0).click();

  // the crop of the first photo moves with a drag (a 96×72 photo: a 72-px square that can slide sideways)
  const editor = page.getByTestId('teach-editor');
  await expect(editor).toHaveAttribute('data-crop', '12,0,72');
  const box = (await editor.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + box.width / 6, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await expect(editor).toHaveAttribute('data-crop', '0,0,72');

  // paint the subject's mask on it
  await page.getByTestId('teach-mode-mask').click();
  const at = (await editor.boundingBox())!; // the click may have scrolled the page
  await page.mouse.move(at.x + at.width * 0.3, at.y + at.height * 0.4);
  await page.mouse.down();
  await page.mouse.move(at.x + at.width * 0.7, at.y + at.height * 0.6, { steps: 8 });
  await page.mouse.up();
  await expect(page.getByTestId('teach-photo-masked')).toHaveCount(1);

  // the words: a placeholder is suggested from the name
  await page.getByTestId('teach-name').fill('Biscuit');
  await expect(page.getByTestId('teach-tokens')).toHaveValue('<biscuit1>');
  // Start with no class word: the form says what is missing and nothing is queued
  await page.getByTestId('teach-start').click();
  await expect(page.getByTestId('teach-class-error')).toContainText('class word');
  await page.getByTestId('teach-class').fill('toy');
  // the training sizes come from the tiny model's configs (UNet 32 × VAE 8 = 256, grid 32): take the smallest
  await expect(page.getByTestId('teach-res').locator('option')).toHaveText(['32×32', '64×64', '128×128', '256×256']);
  await page.getByTestId('teach-res').selectOption('32');
  await page.getByTestId('teach-advanced').locator('summary').click();
  await expect(page.getByTestId('teach-steps')).toHaveValue('300'); // the default for 3 photos, shown
  await page.getByTestId('teach-steps').fill('6');
  await page.getByTestId('teach-ckpt').fill('1');
  await page.getByTestId('teach-preview').fill('2');
  // the tiny random model needs more than the spec's rates to move in a few steps
  await page.getByTestId('teach-lr-lora').fill('0.001');
  await page.getByTestId('teach-lr-tokens').fill('0.01');
  await page.screenshot({ path: '/tmp/concepts-teach-form.png', fullPage: true });
  await page.getByTestId('teach-start').click();

  // the job runs: steps, loss chart, a checkpoint and a preview
  const running = page.getByTestId('job-running');
  await expect(running).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('concepts-tab-training')).toHaveAttribute('aria-selected', 'true');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=job-running]')?.getAttribute('data-step') ?? 0) >= 2, undefined, { timeout: 300_000 });
  await expect(page.getByTestId('job-saved')).toContainText('step');
  await expect(page.getByTestId('job-preview')).toBeVisible({ timeout: 120_000 });
  expect(Number(await page.getByTestId('train-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('job-speed')).not.toHaveText('—');
  await page.screenshot({ path: '/tmp/concepts-training.png', fullPage: true });
  const jobKeys = await storedKeys(page, 'cidm-training-jobs', 'jobs');
  expect(jobKeys).toHaveLength(1);
  const ckpts = (await storedKeys(page, 'cidm-training-checkpoints', 'checkpoints')) as [string, number][];
  expect(ckpts.length).toBeGreaterThanOrEqual(1);
  expect(ckpts[0]![0]).toBe(jobKeys[0]);
  const savedBeforeReload = Math.max(...ckpts.map((k) => k[1]));
  expect(savedBeforeReload).toBeGreaterThanOrEqual(1);
  expect(savedBeforeReload).toBeLessThan(6);

  // a reload mid-training: the job resumes by itself from its last checkpoint
  await page.reload();
  await studioReady(page);
  await openSection(page, 'Concepts');
  await expect(page.getByTestId('concepts-tab-training')).toHaveAttribute('aria-selected', 'true');
  const resumed = page.getByTestId('job-resumed');
  await expect(resumed).toBeVisible({ timeout: 120_000 });
  const resumedFrom = Number((await resumed.textContent())!.replace(/\D+/g, ''));
  expect(resumedFrom).toBeGreaterThanOrEqual(savedBeforeReload);
  expect(resumedFrom).toBeLessThan(6);
  await page.screenshot({ path: '/tmp/concepts-resumed.png', fullPage: true });

  // it finishes: the concept is saved, the job and its checkpoints are gone
  await expect(page.getByTestId('training-notice')).toContainText('saved in your library', { timeout: 300_000 });
  const concepts = await storedConcepts(page);
  expect(concepts).toHaveLength(1);
  const c = concepts[0]!;
  expect(c).toMatchObject({ id: jobKeys[0], name: 'Biscuit', placeholders: ['<biscuit1>'], taskIndex: 1, modelId: TINY_ID, steps: 6, resolution: 32, thumbnails: 3, samples: 1, trainingPhotos: 3, masks: 1, captionTemplate: 'object' });
  expect(c.lossCurve).toHaveLength(6);
  expect(c.lossCurve.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
  expect(c.tensorBytes).toBeGreaterThan(0);
  expect(await storedKeys(page, 'cidm-training-jobs', 'jobs')).toEqual([]);
  expect(await storedKeys(page, 'cidm-training-checkpoints', 'checkpoints')).toEqual([]);
  await page.getByTestId('concepts-tab-library').click();
  await expect(page.getByTestId('concept-library')).toContainText('Biscuit');
  await page.screenshot({ path: '/tmp/concepts-library.png', fullPage: true });

  // the forgetting dashboard scores the taught concept on its own stored photos (one task: one cell)
  await page.getByTestId('concepts-tab-forgetting').click();
  await page.getByTestId('forgetting-compute').click();
  await expect(page.getByTestId('forgetting-cell')).toHaveCount(1, { timeout: 300_000 });
  await expect(page.getByTestId('forgetting-cell').first()).toHaveText('1.00×');
  await expect(page.getByTestId('forgetting-error')).toHaveCount(0);
  await page.screenshot({ path: '/tmp/concepts-forgetting-computed.png', fullPage: true });

  // and the taught concept generates when a prompt names it ("Use in prompt" on its card writes its words)
  await fillGenerate(page, { prompt: 'a photo of', width: 64, height: 64, steps: 2, seed: 5 });
  await openSection(page, 'Concepts');
  await page.getByTestId('concepts-tab-library').click();
  await page.getByTestId('concept-use').click();
  await expect(page.getByTestId('gen-prompt')).toHaveValue('a photo of, <biscuit1> toy');
  await page.getByTestId('gen-go').click();
  await waitGenerated(page, 240_000);
  expect((await studioReady(page)).generation).toMatchObject({ phase: 'done', error: null });

  // nothing left the page: only GETs of the studio's own files, from the drop to the end
  const foreign = requests.filter((r) => r.method !== 'GET' || !(r.url.startsWith(origin) || r.url.startsWith('blob:') || r.url.startsWith('data:')));
  expect(foreign).toEqual([]);
  expect(pageErrors).toEqual([]);
});

/** Drops three fresh photos and fills the form for a 32² job of `steps` steps (no previews: faster). */
async function teach(page: import('@playwright/test').Page, o: { name: string; tokens?: string; steps: number }): Promise<void> {
  await page.getByTestId('concepts-tab-teach').click();
  await dropFiles(page, 'teach-drop', await makeTestPhotos(page, ['png', 'jpeg', 'webp']));
  await expect(page.getByTestId('teach-photo')).toHaveCount(3);
  await page.getByTestId('teach-name').fill(o.name);
  await page.getByTestId('teach-class').fill('toy');
  if (o.tokens) await page.getByTestId('teach-tokens').fill(o.tokens);
  await page.getByTestId('teach-res').selectOption('32');
  await page.getByTestId('teach-advanced').locator('summary').click();
  await page.getByTestId('teach-steps').fill(String(o.steps));
  await page.getByTestId('teach-ckpt').fill('1');
  await page.getByTestId('teach-preview').fill('0');
  await page.getByTestId('teach-start').click();
  await expect(page.getByTestId('concepts-tab-training')).toHaveAttribute('aria-selected', 'true');
}

test('jobs: a vocabulary word is refused clearly; jobs queue in order; pause keeps a checkpoint, resume continues, cancel deletes', async ({ page, pageErrors }) => {
  await page.goto('/');
  await importTinyModel(page);
  await openSection(page, 'Concepts');

  // "dog" is a word of the tokenizer's vocabulary: the engine refuses it (PlaceholderCollisionError), shown clearly, no Retry
  await teach(page, { name: 'Clash', tokens: 'dog', steps: 4 });
  const failed = page.getByTestId('job-waiting').filter({ hasText: 'Clash' });
  await expect(failed.getByTestId('job-error')).toContainText('A placeholder word is taken', { timeout: 120_000 });
  await expect(failed.getByTestId('job-error')).toContainText('"dog"');
  await expect(failed.getByTestId('job-retry')).toHaveCount(0);
  await failed.getByTestId('job-cancel').click();
  await failed.getByTestId('job-cancel-confirm').click();
  await expect(failed).toHaveCount(0);

  // one job at a time: the second waits in the queue, and can be cancelled while it waits
  await teach(page, { name: 'Pip', steps: 8 });
  await expect(page.getByTestId('job-running')).toContainText('Pip', { timeout: 60_000 });
  await teach(page, { name: 'Moss', steps: 4 });
  const waiting = page.getByTestId('job-waiting').filter({ hasText: 'Moss' });
  await expect(waiting).toContainText('Waiting, #2 in the queue');
  await expect(page.getByTestId('job-running')).toContainText('Pip');
  await page.screenshot({ path: '/tmp/concepts-queue.png' });
  await waiting.getByTestId('job-cancel').click();
  await waiting.getByTestId('job-cancel-confirm').click();
  await expect(waiting).toHaveCount(0);

  // pause after a couple of steps: a checkpoint is kept and the job waits
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=job-running]')?.getAttribute('data-step') ?? 0) >= 2, undefined, { timeout: 300_000 });
  await page.getByTestId('job-pause').click();
  const paused = page.getByTestId('job-waiting').filter({ hasText: 'Pip' });
  await expect(paused).toHaveAttribute('data-state', 'paused', { timeout: 120_000 });
  await expect(paused).toContainText(/Checkpoint at step \d+ of 8/);
  const at = Number(/Checkpoint at step (\d+)/.exec((await paused.textContent())!)![1]);
  expect(at).toBeGreaterThanOrEqual(2);
  const ckpts = (await storedKeys(page, 'cidm-training-checkpoints', 'checkpoints')) as [string, number][];
  expect(ckpts.map((k) => k[1])).toEqual([at]);

  // resume continues from that checkpoint
  await paused.getByTestId('job-resume').click();
  await expect(page.getByTestId('job-resumed')).toHaveText(`Resumed from step ${at}`, { timeout: 120_000 });
  await page.waitForFunction((at) => Number(document.querySelector('[data-testid=job-running]')?.getAttribute('data-step') ?? 0) > at, at, { timeout: 300_000 });

  // cancel asks, then deletes the job and its checkpoints; nothing reaches the library
  await page.getByTestId('job-running').getByTestId('job-cancel').click();
  await page.getByTestId('job-running').getByTestId('job-cancel-confirm').click();
  await expect(page.getByTestId('training-notice')).toContainText('cancelled', { timeout: 120_000 });
  await expect(page.getByTestId('job-running')).toHaveCount(0);
  expect(await storedKeys(page, 'cidm-training-jobs', 'jobs')).toEqual([]);
  expect(await storedKeys(page, 'cidm-training-checkpoints', 'checkpoints')).toEqual([]);
  expect(await storedConcepts(page)).toEqual([]);
  expect(pageErrors).toEqual([]);
});
