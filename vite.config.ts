import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { readFileSync } from 'node:fs';

// The app build. Vitest has its own vitest.config.ts (which Vitest prefers), so nothing here affects tests.
// The service worker precaches the app shell only: model weights are far too big for the Cache API's
// precache (they stream into OPFS, see DESIGN.md "Weights"), and the golden test data is never shipped.
const THEME = '#0b0d12';
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      // autoUpdate + skipWaiting/clientsClaim: a new deploy takes over at once; the app holds no state
      // in memory that a reload would lose (everything durable lives in IndexedDB/OPFS).
      registerType: 'autoUpdate',
      // main.tsx calls registerSW() from 'virtual:pwa-register' itself, so it can report "offline ready".
      injectRegister: false,
      // public/ is copied into dist and matched by globPatterns, so icons need no second listing.
      includeManifestIcons: false,
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,wgsl,webmanifest}'],
        globIgnores: ['**/*.safetensors', '**/*.onnx', 'golden/**', '**/golden/**'],
        // Kernels are bundled into the JS, which can grow past workbox's 2 MiB default per file.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        navigateFallback: 'index.html',
        clientsClaim: true,
        skipWaiting: true,
        cleanupOutdatedCaches: true,
      },
      manifest: {
        id: '/',
        name: 'CIDM Studio',
        short_name: 'CIDM Studio',
        description:
          'Teach Stable Diffusion XL your own concepts and compose them into scenes, on your own GPU, offline.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        theme_color: THEME,
        background_color: THEME,
        categories: ['graphics', 'photo', 'productivity'],
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: 'icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
      },
    }),
  ],
  define: { __APP_VERSION__: JSON.stringify(pkg.version) },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
  server: { host: '127.0.0.1' },
});
