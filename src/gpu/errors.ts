/**
 * Named GPU errors. Each carries a stable string `code` (so it can cross the worker boundary as
 * `{name, code, message}` and be rebuilt) and a message that tells a person what to do.
 */

export type GpuErrorCode =
  | 'webgpu-unavailable'
  | 'feature-missing'
  | 'limit-too-low'
  | 'device-lost'
  | 'shader-compile'
  | 'gpu-validation'
  | 'gpu-out-of-memory';

export abstract class GpuError extends Error {
  abstract readonly code: GpuErrorCode;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class WebGPUUnavailableError extends GpuError {
  readonly code = 'webgpu-unavailable';
  constructor(readonly reason: string) {
    super(
      `WebGPU is not available: ${reason}. Use a recent Chrome or Edge (version 113 or later) on a ` +
        'machine with a supported GPU, and make sure hardware acceleration is on (chrome://settings/system).',
    );
  }
}

export class FeatureMissingError extends GpuError {
  readonly code = 'feature-missing';
  constructor(readonly feature: string, detail = '') {
    super(
      `This GPU does not offer the WebGPU feature "${feature}"${detail ? ` (${detail})` : ''}. ` +
        'Choose a setting that does not need it (for example f32 precision instead of f16).',
    );
  }
}

export class LimitTooLowError extends GpuError {
  readonly code = 'limit-too-low';
  constructor(readonly limit: string, readonly have: number, readonly need: number) {
    super(
      `This GPU's WebGPU limit ${limit} is ${have}, but ${need} is needed. ` +
        'Try a smaller image size or the low-memory mode, or use a GPU with more memory.',
    );
  }
}

export class DeviceLostError extends GpuError {
  readonly code = 'device-lost';
  constructor(readonly reason: string, detail: string) {
    super(
      `The GPU device was lost (${reason}${detail ? `: ${detail}` : ''}). ` +
        'The studio will create a new device; your work is kept. If it keeps happening, use a smaller size.',
    );
  }
}

export class ShaderCompileError extends GpuError {
  readonly code = 'shader-compile';
  constructor(readonly kernel: string, readonly diagnostics: string) {
    super(`WGSL kernel "${kernel}" failed to compile:\n${diagnostics}`);
  }
}

export class GpuValidationError extends GpuError {
  readonly code = 'gpu-validation';
  constructor(readonly scope: string, detail: string) {
    super(`WebGPU validation error in ${scope}: ${detail}`);
  }
}

export class GpuOutOfMemoryError extends GpuError {
  readonly code = 'gpu-out-of-memory';
  constructor(readonly scope: string, detail: string) {
    super(
      `The GPU ran out of memory in ${scope} (${detail}). Try a smaller image size or the low-memory mode.`,
    );
  }
}

/** The wire form of an error, as it crosses a worker boundary. */
export interface SerializedError {
  name: string;
  code: string;
  message: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof GpuError) return { name: err.name, code: err.code, message: err.message };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, code: typeof code === 'string' ? code : 'unknown', message: err.message };
  }
  return { name: 'Error', code: 'unknown', message: String(err) };
}
