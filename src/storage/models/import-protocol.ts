/** Messages between the import client (window) and the import worker: a typed union, errors as plain data. */
import { serializeError } from '../../gpu/errors';
import type { ImportRequest } from './plan';
import type { ImportProgress, ModelManifest } from './types';

export type ToImportWorker =
  | { type: 'start'; job: number; request: ImportRequest }
  | { type: 'cancel'; job: number };

export type FromImportWorker =
  | { type: 'progress'; job: number; progress: ImportProgress }
  | { type: 'done'; job: number; manifest: ModelManifest }
  | { type: 'error'; job: number; error: WireError };

/** serializeError's {name, code, message} plus the fields the Models page names (file, sizes). */
export interface WireError {
  name: string;
  code: string;
  message: string;
  file?: string;
  needed?: number;
  available?: number;
}

export function toWireError(err: unknown): WireError {
  const base: WireError = serializeError(err);
  if (typeof err === 'object' && err !== null) {
    const e = err as { file?: unknown; needed?: unknown; available?: unknown; name?: unknown };
    if (typeof e.file === 'string') base.file = e.file;
    if (typeof e.needed === 'number') base.needed = e.needed;
    if (typeof e.available === 'number') base.available = e.available;
    if (e.name === 'AbortError') base.code = 'cancelled';
  }
  return base;
}

/** An import error rebuilt on the window side; `code` says which (ModelFileError codes, storage codes, 'cancelled'). */
export class ImportFailure extends Error {
  readonly code: string;
  readonly file?: string;
  readonly needed?: number;
  readonly available?: number;
  constructor(w: WireError) {
    super(w.message);
    this.name = w.name;
    this.code = w.code;
    if (w.file !== undefined) this.file = w.file;
    if (w.needed !== undefined) this.needed = w.needed;
    if (w.available !== undefined) this.available = w.available;
  }
}
