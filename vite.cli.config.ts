import { defineConfig } from 'vite';

// Builds the Node command-line tools (golden runner, memory plan) from the same TypeScript sources the
// studio uses, so WGSL `?raw` imports resolve exactly as in the app. Output: .cache/cli/*.js.
export default defineConfig({
  logLevel: 'warn',
  publicDir: false,
  build: {
    ssr: true,
    outDir: '.cache/cli',
    // not emptied: two CLI builds at once (npm run generate while npm run golden builds) would delete
    // each other's output; every build rewrites all entries anyway
    emptyOutDir: false,
    target: 'node20',
    rollupOptions: {
      input: { golden: 'src/cli/golden.ts', 'memory-plan': 'src/cli/memory-plan.ts', 'learn-check': 'src/cli/learn-check.ts', forgetting: 'src/cli/forgetting.ts', generate: 'src/cli/generate.ts' },
      external: ['webgpu', /^node:/],
      output: { format: 'es', entryFileNames: '[name].js' },
    },
  },
});
