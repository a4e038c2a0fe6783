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
