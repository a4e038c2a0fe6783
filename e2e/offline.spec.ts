import { expect, openSection, studioReady, test } from './fixtures/studio';

test.describe('offline (service worker)', () => {
  test('after the service worker takes control, the shell reloads offline from its cache', async ({
    page,
    context,
    pageErrors,
  }) => {
    await page.goto('/');
    await studioReady(page);
    // registerType autoUpdate + clientsClaim: the first visit's worker installs, activates and claims this page.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');
    await expect(page.getByTestId('net-chip')).toHaveText('Works offline');
    expect(await page.evaluate(() => window.__studio?.offlineReady)).toBe(true);

    await context.setOffline(true);
    const response = await page.reload();
    expect(response, 'the reload got a response').not.toBeNull();
    expect(response!.fromServiceWorker()).toBe(true);
    const studio = await studioReady(page);
    expect(studio.gpu?.architecture).toBe('swiftshader');
    await openSection(page, 'GPU');
    await expect(page.getByTestId('adapter-name')).toHaveText('SwiftShader');
    await expect(page.getByTestId('net-chip')).toHaveText('Offline');
    expect(pageErrors).toEqual([]);
  });

  test('negative control: without the service worker, an offline load fails', async ({ browser, baseURL }) => {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    try {
      const page = await context.newPage();
      await context.setOffline(true);
      await expect(page.goto(baseURL ?? '/')).rejects.toThrow(/ERR_INTERNET_DISCONNECTED/);
    } finally {
      await context.close();
    }
  });
});
