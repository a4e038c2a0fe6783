/**
 * The kernel tier's device: Dawn in Node (npm `webgpu`) on a CPU Vulkan driver.
 *   CIDM_ADAPTER=swiftshader  SwiftShader from Debian's chromium (f32 only)
 *   CIDM_ADAPTER=lavapipe     Mesa 25 lavapipe (shader-f16); VK_ICD_FILENAMES/LD_LIBRARY_PATH set by
 *                             scripts/test-all.sh before the process starts
 * No adapter is a failure, never a skip. The adapter's name is logged once per test file.
 */
import { create } from 'webgpu';
import { GpuContext, adapterLabel, withErrorScopes } from '../src/gpu';

export type TestAdapter = 'swiftshader' | 'lavapipe';

export const TEST_ADAPTER: TestAdapter = process.env.CIDM_ADAPTER === 'lavapipe' ? 'lavapipe' : 'swiftshader';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let shared: Promise<GpuContext> | null = null;
/**
 * The Dawn instance must stay referenced for the life of the process: once it is garbage-collected,
 * Dawn's pending callbacks (onSubmittedWorkDone, mapAsync) touch freed memory and the process aborts
 * with a futex/pthread assertion.
 */
let dawnInstance: GPU | null = null;

export function testContext(): Promise<GpuContext> {
  shared ??= makeContext();
  return shared;
}

/** The process's Dawn GPU object (for tests that make devices of their own, e.g. the engine's). */
export function testGpu(): GPU {
  if (TEST_ADAPTER === 'swiftshader') process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
  if (!process.env.VK_ICD_FILENAMES) {
    throw new Error(`CIDM_ADAPTER=${TEST_ADAPTER} but VK_ICD_FILENAMES is not set (run the tests through npm test)`);
  }
  return (dawnInstance ??= create([]) as unknown as GPU);
}

/** Device options of the test adapter (lavapipe must give shader-f16). */
export const TEST_DEVICE_OPTIONS = TEST_ADAPTER === 'lavapipe' ? { requiredFeatures: ['shader-f16' as GPUFeatureName] } : {};

async function makeContext(): Promise<GpuContext> {
  const gpu = testGpu();
  const ctx = await GpuContext.create(gpu, TEST_DEVICE_OPTIONS);
  console.log(`[gpu] adapter: ${adapterLabel(ctx.handle.summary)} (${TEST_ADAPTER}); shader-f16=${ctx.hasF16}`);
  return ctx;
}

/** Runs GPU work inside validation/OOM error scopes, so a validation error fails the test by name. */
export async function checked<T>(ctx: GpuContext, scope: string, work: () => Promise<T> | T): Promise<T> {
  return withErrorScopes(ctx.device, scope, work);
}
