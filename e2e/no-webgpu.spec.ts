import { noAdapter, noAdapterOnce, removeWebGpu, tinyLimits } from './fixtures/gpu-stubs';
import { expect, STACK_TRACE, studioReady, test, openSection } from './fixtures/studio';

test.describe('without a usable GPU', () => {
  test('no navigator.gpu: explains why and what to do, with no stack trace', async ({ page, pageErrors }) => {
    await page.addInitScript(removeWebGpu);
    await page.goto('/');
    const studio = await studioReady(page);
    expect(await page.evaluate(() => 'gpu' in navigator)).toBe(false);
    expect(studio.gpu).toBeNull();
    expect(studio.error?.code).toBe('webgpu-unavailable');
    expect(studio.failureKind).toBe('no-webgpu');

    const card = page.getByTestId('no-gpu');
    await expect(card).toBeVisible();
    await expect(card.getByRole('heading', { level: 1 })).toHaveText('This browser does not offer WebGPU');
    await expect(card).toContainText('Chrome or Edge, version 113 or later');
    await expect(card).toContainText('hardware acceleration');
    await expect(card).toContainText('chrome://gpu');
    await expect(page.getByTestId('no-gpu-message')).toContainText('navigator.gpu is missing');
    await expect(page.getByRole('button', { name: 'Try again' })).toBeEnabled();
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(STACK_TRACE);
    expect(pageErrors).toEqual([]);
  });

  test('no adapter: points at hardware acceleration and chrome://gpu', async ({ page }) => {
    await page.addInitScript(noAdapter);
    await page.goto('/');
    const studio = await studioReady(page);
    expect(studio.failureKind).toBe('no-adapter');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('No graphics adapter is available');
    await expect(page.getByTestId('no-gpu-message')).toContainText('requestAdapter returned null');
    await expect(page.getByTestId('no-gpu')).toContainText('chrome://settings/system');
    expect(await page.locator('body').innerText()).not.toMatch(STACK_TRACE);
  });

  test('limit too low: names the limit, what the GPU has and what is needed', async ({ page }) => {
    await page.addInitScript(tinyLimits);
    await page.goto('/');
    const studio = await studioReady(page);
    expect(studio.error?.code).toBe('limit-too-low');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('This GPU is too small for the studio');
    const message = page.getByTestId('no-gpu-message');
    await expect(message).toContainText('maxStorageBufferBindingSize');
    await expect(message).toContainText(String(64 * 1024 * 1024));
    await expect(message).toContainText(String(128 * 1024 * 1024));
  });

  test('"Try again" recovers once an adapter appears', async ({ page }) => {
    await page.addInitScript(noAdapterOnce);
    await page.goto('/');
    expect((await studioReady(page)).failureKind).toBe('no-adapter');
    await page.getByRole('button', { name: 'Try again' }).click();
    await expect(page.locator('.topbar')).toContainText('SwiftShader');
    await openSection(page, 'GPU');
    await expect(page.getByTestId('adapter-name')).toHaveText('SwiftShader');
    const studio = await studioReady(page);
    expect(studio.error).toBeNull();
    expect(studio.gpu?.architecture).toBe('swiftshader');
  });
});
