import { defineConfig } from 'vitest/config';

// Two tiers run by Vitest: `unit` (no GPU) and `kernels` (real WebGPU in Node through Dawn; the adapter
// is chosen by CIDM_ADAPTER, see tests/gpu-harness.ts). The e2e tier is Playwright (playwright.config.ts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'tests/unit/**/*.test.ts'],
          exclude: ['**/*.gpu.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'kernels',
          include: ['src/**/*.gpu.test.ts', 'tests/gpu/**/*.gpu.test.ts'],
          // `*.f16.gpu.test.ts` are long model-level runs that belong to the f16 tier (lavapipe, 3–5× faster
          // than SwiftShader); the f32 tier leaves them out instead of paying for them twice.
          exclude: process.env.CIDM_ADAPTER === 'lavapipe' ? [] : ['**/*.f16.gpu.test.ts'],
          environment: 'node',
          setupFiles: ['tests/gpu-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One GPU device per file; files run one at a time so CPU adapters get both cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
