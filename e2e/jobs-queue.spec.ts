/**
 * Jobs that respect the person (issue 13, points 2 and 3) on the tiny model: two runs queue and the
 * header shows them on every page; Cancel says "Cancelling…" at once and the run ends within one UNet
 * block; the estimate appears after a measured run, and a long run offers one click to a smaller
 * setting; steps = 0 explains itself and blocks Generate.
 */
import { expect, openSection, studioReady, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, waitGenerated } from './fixtures/models';

test.setTimeout(300_000);
test.use({ viewport: { width: 1280, height: 720 } });

test('queues two runs, cancels the running one at once, explains steps = 0, estimates the next run', async ({ page, pageErrors }) => {
  await page.goto('/');
  await importTinyModel(page);

  // validation as typed: 0 steps is refused beside the field and Generate is disabled
  await fillGenerate(page, { prompt: 'a lighthouse at dusk', steps: 0 });
  await expect(page.getByTestId('gen-steps-error')).toHaveText('Steps must be between 1 and 150.');
  await expect(page.getByTestId('gen-go')).toBeDisabled();
  await page.getByTestId('gen-steps').scrollIntoViewIfNeeded();
  await page.screenshot({ path: '/tmp/jobs-validation.png' });
  await page.getByTestId('gen-steps').fill('2');
  await expect(page.getByTestId('gen-steps-error')).toHaveCount(0);
  await expect(page.getByTestId('gen-go')).toBeEnabled();

  // a short run measures this adapter; the estimate then reads in minutes and seconds
  await page.getByTestId('gen-go').click();
  await waitGenerated(page);
  expect((await studioReady(page)).generation.phase).toBe('done');
  await page.getByTestId('gen-steps').fill('40');
  await expect(page.getByTestId('gen-estimate')).toContainText(/About \d+ (s|min)/);
  await page.getByTestId('gen-go').scrollIntoViewIfNeeded();
  await page.screenshot({ path: '/tmp/jobs-estimate.png' });

  // a long run (1024², 150 steps on this CPU adapter) warns and offers one click to a smaller setting
  await page.getByTestId('gen-width').fill('1024');
  await page.getByTestId('gen-height').fill('1024');
  await page.getByTestId('gen-steps').fill('150');
  await expect(page.getByTestId('gen-estimate-warn')).toContainText('software adapter');
  await expect(page.getByTestId('gen-smaller')).toContainText(/^Use \d+×\d+, \d+ steps/);
  await page.getByTestId('gen-smaller').click();
  // the fields re-render from the store after the click: poll rather than read once (a busy machine
  // read the old 150 before React had rendered the new draft)
  await expect.poll(async () => Number(await page.getByTestId('gen-steps').inputValue())).toBeLessThanOrEqual(20);
  await expect.poll(async () => Number(await page.getByTestId('gen-width').inputValue())).toBeLessThan(1024);
  await page.getByTestId('gen-width').fill('64');
  await page.getByTestId('gen-height').fill('48');
  await page.getByTestId('gen-steps').fill('40');

  // two runs queued: the header counts them, on every page
  await page.getByTestId('gen-go').click();
  await page.waitForFunction(() => (window.__studio?.generation.step ?? 0) >= 1 && window.__studio?.generation.phase === 'running', undefined, { timeout: 120_000 });
  await page.getByTestId('gen-go').click();
  await expect(page.getByTestId('jobs-count')).toHaveText('2');
  await openSection(page, 'Gallery');
  await expect(page.getByTestId('jobs-chip')).toBeVisible();
  await expect(page.getByTestId('jobs-count')).toHaveText('2');
  await expect(page.getByTestId('jobs-current')).toContainText(/Step \d+\/40/);
  await page.getByTestId('jobs-chip').click();
  await expect(page.getByTestId('job-row')).toHaveCount(2);
  await page.screenshot({ path: '/tmp/jobs-queue.png' });

  // Cancel answers at once, before the engine has stopped. The tiny model can stop within one block
  // and start the queued run before a poll would see the label, so the page itself records when the
  // click landed and when the button first read "Cancelling…".
  const stepAtCancel = (await studioReady(page)).generation.step;
  await page.evaluate(() => {
    const w = window as unknown as { __cancelClickAt?: number; __cancellingAt?: number };
    const button = () => document.querySelector('[data-testid="jobs-cancel-current"]');
    document.addEventListener('click', (e) => { if (w.__cancelClickAt === undefined && e.target === button()) w.__cancelClickAt = performance.now(); }, { capture: true });
    new MutationObserver(() => {
      if (w.__cancellingAt === undefined && button()?.textContent === 'Cancelling…') w.__cancellingAt = performance.now();
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId('jobs-cancel-current').click();
  await page.waitForFunction(() => (window as unknown as { __cancellingAt?: number }).__cancellingAt !== undefined, undefined, { timeout: 10_000 });
  const answeredMs = await page.evaluate(() => {
    const w = window as unknown as { __cancelClickAt: number; __cancellingAt: number };
    return w.__cancellingAt - w.__cancelClickAt;
  });
  expect(answeredMs).toBeGreaterThanOrEqual(0);
  expect(answeredMs).toBeLessThan(1000);
  // the cancelled job leaves; the queued one starts (a fresh run: step 0 again)
  await expect(page.getByTestId('jobs-count')).toHaveText('1', { timeout: 30_000 });
  expect(stepAtCancel).toBeLessThan(40);
  // the second job is removed from the list as well: the queue empties and the header chip goes away
  await page.getByTestId('jobs-cancel-current').click();
  await expect(page.getByTestId('jobs-chip')).toHaveCount(0, { timeout: 30_000 });
  await openSection(page, 'Generate');
  await expect(page.getByTestId('gen-status')).toHaveText('Cancelled.');
  await page.screenshot({ path: '/tmp/jobs-after-cancel.png' });
  expect(pageErrors).toEqual([]);
});
