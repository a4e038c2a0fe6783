import { loseFirstDevice, malformedAdapterInfo } from './fixtures/gpu-stubs';
import { expect, openSection, STACK_TRACE, studioReady, test } from './fixtures/studio';

test.describe('device loss', () => {
  test('a lost device is reported in place, and "Reconnect" gets a new one', async ({ page }) => {
    await page.addInitScript(loseFirstDevice);
    await page.goto('/');
    await studioReady(page);
    await openSection(page, 'GPU');
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('The GPU device was lost');
    await expect(alert).toContainText('simulated by the e2e test');
    await expect(page.locator('.topbar')).toContainText('GPU lost');
    expect(await page.evaluate(() => window.__studio?.error?.code)).toBe('device-lost');
    // The adapter card stays: the person still sees which GPU it was.
    await expect(page.getByTestId('adapter-name')).toHaveText('SwiftShader');

    await alert.getByRole('button', { name: 'Reconnect' }).click();
    await expect(alert).toBeHidden();
    await expect(page.locator('.topbar')).toContainText('SwiftShader');
    const studio = await studioReady(page);
    expect(studio.error).toBeNull();
    expect(studio.enabled?.subgroups).toBe(true);
  });
});

test.describe('error boundary', () => {
  test('a render error shows the recovery card, not a blank page or a stack', async ({ page }) => {
    await page.addInitScript(malformedAdapterInfo);
    await page.goto('/');
    await studioReady(page);
    // the header shows only the architecture; the adapter card (GPU page) renders the malformed vendor
    if (await page.getByTestId('crash').count() === 0) await openSection(page, 'GPU');
    const crash = page.getByTestId('crash');
    await expect(crash).toBeVisible();
    await expect(crash.getByRole('heading', { level: 1 })).toHaveText('Something went wrong in the studio');
    await expect(crash.getByRole('button', { name: 'Reload the studio' })).toBeVisible();
    expect(await page.evaluate(() => window.__studio?.crash?.message)).toBeTruthy();
    expect(await page.locator('body').innerText()).not.toMatch(STACK_TRACE);
  });
});
