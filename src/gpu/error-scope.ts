/**
 * Runs GPU work inside validation and out-of-memory error scopes and turns what they catch into
 * named errors that say where it happened. Tests wrap every dispatch in it.
 */
import { GpuOutOfMemoryError, GpuValidationError } from './errors';

export async function withErrorScopes<T>(device: GPUDevice, scope: string, work: () => Promise<T> | T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await work();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (validation) throw new GpuValidationError(scope, validation.message);
    if (oom) throw new GpuOutOfMemoryError(scope, oom.message);
  }
  return result;
}
