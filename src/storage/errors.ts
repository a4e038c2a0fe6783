/**
 * Named storage errors, in the style of src/gpu/errors.ts: a stable string `code` (so the error crosses
 * the worker boundary as `{name, code, message}` through serializeError and can be told apart there)
 * and a message that says what a person can do. GpuError's code union is GPU-only, so storage has its
 * own base class of the same shape instead of widening that union.
 */
import { formatSize } from './bytes';

export type StorageErrorCode =
  /** Not enough quota (or disk) for what is about to be written. */
  | 'storage-quota'
  /** The origin private file system is missing (an old browser, or a private window that blocks it). */
  | 'storage-unavailable'
  /** No verified model with that id. */
  | 'model-not-found'
  /** The model is already imported and verified. */
  | 'model-exists'
  /** Another tab (or another import in this one) is writing the same model. */
  | 'import-busy'
  /** What the person typed or picked is not something the studio can import. */
  | 'bad-source';

export abstract class StorageError extends Error {
  abstract readonly code: StorageErrorCode;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class StorageQuotaError extends StorageError {
  readonly code = 'storage-quota';
  constructor(
    /** Bytes the operation still has to write. */
    readonly needed: number,
    /** Bytes the browser says this site may still use (quota − usage). */
    readonly available: number,
    /** The file being written when the browser refused, for an error raised by a write. */
    readonly file?: string,
  ) {
    const room =
      available < needed
        ? `, but only ${formatSize(available)} is available to the studio`
        : ` (the browser reported ${formatSize(available)} free, but the disk or this site's quota is full)`;
    super(
      `Not enough storage space: this import needs ${formatSize(needed)} more` +
        (file ? ` and the browser refused to write ${file}` : '') +
        `${room}. Free space on this disk or delete a model you no longer use, then try again.`,
    );
  }
}

export class StorageUnavailableError extends StorageError {
  readonly code = 'storage-unavailable';
  constructor(readonly reason: string) {
    super(
      `This browser does not give the studio a private file system for model weights (${reason}). ` +
        'Use a recent Chrome or Edge in a normal (not private) window.',
    );
  }
}

export class ModelNotFoundError extends StorageError {
  readonly code = 'model-not-found';
  constructor(readonly id: string, detail = 'is not imported (or its import is not finished)') {
    super(`The model "${id}" ${detail}. Import it on the Models page first.`);
  }
}

export class ModelExistsError extends StorageError {
  readonly code = 'model-exists';
  constructor(readonly id: string) {
    super(`The model "${id}" is already imported and verified. Delete it first to import it again.`);
  }
}

export class ImportBusyError extends StorageError {
  readonly code = 'import-busy';
  constructor(readonly id: string) {
    super(`The model "${id}" is being imported or deleted right now (maybe in another tab). Wait for that to finish.`);
  }
}

export class BadModelSourceError extends StorageError {
  readonly code = 'bad-source';
  constructor(readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
  }
}

/** A DOMException (or lookalike) for a refused write: QuotaExceededError (legacy code 22). */
export function isQuotaExceeded(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  return e.name === 'QuotaExceededError' || e.code === 22;
}

/** An abort (AbortSignal fired): the DOMException fetch/streams throw, or the signal's own reason. */
export function isAbort(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

/** Bytes this site may still use (quota − usage), or 0 where the browser does not say: for StorageQuotaError's message. */
export async function availableBytes(): Promise<number> {
  try {
    const e = await navigator.storage.estimate();
    return Math.max(0, (e.quota ?? 0) - (e.usage ?? 0));
  } catch {
    return 0;
  }
}
