/**
 * Acquires the GPU device for the shell and records the outcome in the store. Runs outside React
 * (StrictMode renders twice; a device must be requested once). Every failure becomes a
 * GpuFailureKind plus the error's wire form, so the explanation page never shows a stack.
 */
import {
  FeatureMissingError,
  GpuError,
  LimitTooLowError,
  requestGpuDevice,
  serializeError,
  WebGPUUnavailableError,
} from '../gpu';
import { useStudio, type GpuFailureKind } from './store';

export function classifyGpuFailure(err: unknown, env: { hasApi: boolean; secure: boolean }): GpuFailureKind {
  if (err instanceof LimitTooLowError) return 'limit-too-low';
  if (err instanceof FeatureMissingError) return 'feature-missing';
  if (err instanceof WebGPUUnavailableError) {
    // WebGPU is exposed only in secure contexts (https or localhost), which is the likeliest cause then.
    if (!env.hasApi) return env.secure ? 'no-webgpu' : 'insecure-context';
    return 'no-adapter';
  }
  return 'device-failed';
}

let probing: Promise<void> | null = null;

/** Request (or re-request, after a failure or loss) the device. Concurrent calls share one attempt. */
export function probeGpu(): Promise<void> {
  probing ??= run().finally(() => {
    probing = null;
  });
  return probing;
}

async function run(): Promise<void> {
  const store = useStudio.getState();
  store.setProbing();
  const gpu = typeof navigator === 'undefined' ? undefined : navigator.gpu;
  try {
    const handle = await requestGpuDevice(gpu);
    useStudio.getState().setGpuReady(handle);
    void handle.lost.then((lost) => {
      // null means destroy() on purpose (e.g. the engine took the device over): not a failure.
      if (lost && useStudio.getState().handle === handle) useStudio.getState().setGpuLost(serializeError(lost));
    });
  } catch (err) {
    const kind = classifyGpuFailure(err, { hasApi: Boolean(gpu), secure: globalThis.isSecureContext !== false });
    if (!(err instanceof GpuError)) console.error('GPU device request failed', err);
    useStudio.getState().setGpuFailed(kind, serializeError(err));
  }
}
