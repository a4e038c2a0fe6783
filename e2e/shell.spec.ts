import { expect, studioReady, test } from './fixtures/studio';

test.describe('studio shell', () => {
  test('loads and shows the SwiftShader adapter with its features and limits', async ({
    page,
    pageErrors,
    externalRequests,
  }, testInfo) => {
    await page.goto('/');
    const studio = await studioReady(page);

    expect(studio.error).toBeNull();
    expect(studio.gpu).not.toBeNull();
    expect(studio.gpu!.architecture).toBe('swiftshader');
    expect(studio.gpu!.vendor).toBe('google');
    expect(studio.gpu!.isFallbackAdapter).toBe(true);
    // SwiftShader in Chromium: subgroups and timestamp-query, but no shader-f16 (research/env_recipes.md §1a).
    expect(studio.gpu!.features).toContain('subgroups');
    expect(studio.gpu!.features).not.toContain('shader-f16');
    expect(studio.enabled).toEqual({ f16: false, subgroups: true, timestamps: true });

    // The frame: name, navigation with the coming sections, and the adapter in the main area.
    await expect(page.locator('.brand-name')).toHaveText('CIDM Studio');
    await expect(page).toHaveTitle('CIDM Studio');
    const nav = page.getByRole('navigation', { name: 'Studio sections' });
    for (const name of ['Generate', 'Concepts', 'Scenes', 'Gallery', 'Models', 'Settings', 'GPU']) await expect(nav.getByRole('button', { name })).toBeEnabled();
    await expect(nav.getByRole('button', { name: 'Settings' })).not.toContainText('Soon');
    await expect(nav.getByRole('button', { name: 'Concepts' })).not.toContainText('Soon');
    // the studio opens on Generate; the adapter is on the GPU page
    await expect(nav.getByRole('button', { name: 'Generate' })).toHaveAttribute('aria-current', 'page');
    await nav.getByRole('button', { name: 'GPU' }).click();
    await expect(nav.getByRole('button', { name: 'GPU' })).toHaveAttribute('aria-current', 'page');

    await expect(page.getByTestId('adapter-name')).toHaveText('SwiftShader');
    await expect(page.getByTestId('adapter-architecture')).toHaveText('swiftshader');
    await expect(page.getByTestId('adapter-vendor')).toHaveText('google');
    await expect(page.getByTestId('fallback-pill')).toHaveText('Fallback adapter (CPU)');
    await expect(page.locator('.topbar')).toContainText('SwiftShader');

    await expect(page.getByTestId('cap-shader-f16')).toHaveAttribute('data-available', 'false');
    await expect(page.getByTestId('cap-subgroups')).toHaveAttribute('data-available', 'true');
    await expect(page.getByTestId('cap-timestamp-query')).toHaveAttribute('data-available', 'true');

    // Limits are shown formatted; the values come from the adapter itself.
    const limits = studio.gpu!.limits;
    expect(limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    await expect(page.getByTestId('limit-maxBufferSize')).toContainText(/\d+(\.\d+)? (MiB|GiB)/);
    await expect(page.getByTestId('limit-maxComputeWorkgroupStorageSize')).toContainText('32 KiB');
    await expect(page.getByTestId('limit-maxComputeInvocationsPerWorkgroup')).toContainText(
      String(limits.maxComputeInvocationsPerWorkgroup),
    );
    await expect(page.getByTestId('limit-maxComputeWorkgroupsPerDimension')).toContainText(
      limits.maxComputeWorkgroupsPerDimension!.toLocaleString('en-US'),
    );

    await page.screenshot({ path: testInfo.outputPath('shell.png') });
    await testInfo.attach('shell', { path: testInfo.outputPath('shell.png'), contentType: 'image/png' });
    expect(pageErrors).toEqual([]);
    expect(externalRequests).toEqual([]);
  });
});
