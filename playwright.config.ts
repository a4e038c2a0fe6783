import { defineConfig } from '@playwright/test';

// The e2e tier: Debian's headless Chromium (nothing is downloaded) with WebGPU on SwiftShader.
// It runs against the production build, because only that has the service worker (vite-plugin-pwa).
// E2E_PORT / E2E_OUT_DIR let two e2e runs share the machine (each its own build and preview server).
const PORT = Number(process.env.E2E_PORT ?? 4173);
const OUT_DIR = process.env.E2E_OUT_DIR ?? 'dist';
const BASE_URL = `http://127.0.0.1:${PORT}`;
const HUB_PORT = 4180;
const HUB_URL = `http://127.0.0.1:${HUB_PORT}`;

export default defineConfig({
  testDir: 'e2e',
  // One worker: the machine has few cores, and SwiftShader runs WebGPU on them.
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never' }]],
  outputDir: 'test-results',
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    colorScheme: 'dark',
    serviceWorkers: 'allow',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--enable-unsafe-webgpu',
        '--enable-unsafe-swiftshader',
      ],
    },
  },
  projects: [{ name: 'swiftshader' }],
  webServer: [
    {
      command: `npx vite build --logLevel warn --outDir ${OUT_DIR} --emptyOutDir && npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort --outDir ${OUT_DIR}`,
      url: BASE_URL,
      reuseExistingServer: !process.env.CI,
      timeout: 180_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      // A fake Hugging Face hub for e2e/models-import.spec.ts (serves golden/models; fault injection).
      command: `node e2e/fixtures/hub-server.mjs`,
      url: `${HUB_URL}/__health`,
      env: { HUB_PORT: String(HUB_PORT) },
      reuseExistingServer: !process.env.CI,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
