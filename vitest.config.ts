import { defineConfig } from 'vitest/config';

/**
 * Training-level GPU runs that take 1.5–3.5 min each on SwiftShader and 12–25 s on lavapipe. The test
 * command runs them on lavapipe only (f16 storage, f32 math: the same code paths); `npm run test:full`
 * (CIDM_FULL=1) runs them on SwiftShader in f32 as well. Keeps `npm test` near 45 min on 2 cores.
 */
const SWIFTSHADER_FULL_ONLY = [
  'src/cidm/regional/concept-regions.gpu.test.ts',
  'src/cidm/train/learn-check.gpu.test.ts',
  'src/engine/train-job.gpu.test.ts',
  'src/cidm/train/trainer.gpu.test.ts',
  // GPU loop = host loop and its caches/cancels: 3.5 min, 45 s, 55 s, 40 s and 30 s on SwiftShader; the
  // same code runs on lavapipe in the test command (f16), and each kernel they use is checked in f32 here
  'src/cidm/regional/regional-gpu-loop.gpu.test.ts',
  'src/diffusion/gpu-sampling.gpu.test.ts',
  'src/diffusion/cross-attention-kv-cache.gpu.test.ts',
  'src/engine/engine-cancel.gpu.test.ts',
  'src/cidm/regional/regional-faults.gpu.test.ts',
  'src/engine/edit-regions.gpu.test.ts',
];
const lavapipe = process.env.CIDM_ADAPTER === 'lavapipe';
const full = process.env.CIDM_FULL === '1';

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
          exclude: lavapipe ? [] : ['**/*.f16.gpu.test.ts', ...(full ? [] : SWIFTSHADER_FULL_ONLY)],
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
