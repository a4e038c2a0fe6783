/**
 * Errors across the worker boundary: the worker sends {name, code, message} (serializeError); the page
 * turns it back into an Error whose `name` and `code` are the original ones, so `err.name ===
 * 'AbortError'` or `err.code === 'truncated'` work the same on both sides.
 */
import type { SerializedError } from '../gpu';

export class EngineRemoteError extends Error {
  constructor(
    override readonly name: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** True for a cancellation, whichever side raised it. */
export function isAbort(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'AbortError';
}

export function reviveError(e: SerializedError): Error {
  if (e.name === 'AbortError') return new DOMException(e.message || 'Cancelled', 'AbortError');
  return new EngineRemoteError(e.name, e.code, e.message);
}

/** A request for a model that is not loaded, or a generate before any load. */
export class NoModelLoadedError extends Error {
  override readonly name = 'NoModelLoadedError';
  readonly code = 'no-model';
  constructor() {
    super('No model is loaded. Import an SDXL model on the Models page and choose it.');
  }
}

/** The chosen size needs a GPU buffer larger than this device allows (found by the memory plan, before any work). */
export class ImageTooLargeError extends Error {
  override readonly name = 'ImageTooLargeError';
  readonly code = 'image-too-large';
  constructor(
    readonly width: number,
    readonly height: number,
    readonly neededBytes: number,
    readonly limitBytes: number,
    suggestion: string,
  ) {
    const mib = (b: number) => `${Math.ceil(b / 2 ** 20)} MiB`;
    super(`At ${width}×${height} the model needs one GPU buffer of ${mib(neededBytes)}, but this GPU allows ${mib(limitBytes)} per buffer. ${suggestion}`);
  }
}
