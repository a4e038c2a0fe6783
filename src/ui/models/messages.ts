/** Import errors in words: a short title by error code; the message itself already names the file. */
import type { ImportError } from './models-slice';

const TITLES: Record<string, string> = {
  truncated: 'A file is incomplete',
  'bad-header': 'A file is damaged',
  'size-mismatch': 'A file is damaged',
  'unsupported-dtype': 'Unsupported number format',
  'missing-tensor': 'Part of the model is missing',
  'missing-file': 'A file of the model is missing',
  'wrong-model': 'This is not an SDXL (or SD-1.5) model',
  'bad-config': 'A configuration file is not usable',
  io: 'The transfer failed',
  'unsafe-format': 'Pickle checkpoints are not read',
  'storage-quota': 'Not enough storage space',
  'storage-unavailable': 'No storage for models in this browser',
  'model-exists': 'Already imported',
  'import-busy': 'Busy',
  'bad-source': 'Cannot import this',
  'worker-failed': 'The import stopped',
  cancelled: 'Cancelled',
};

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  file?: unknown;
  name?: unknown;
}

export function describeImportError(err: unknown): ImportError {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorLike;
  const code = e.name === 'AbortError' ? 'cancelled' : typeof e.code === 'string' ? e.code : 'unknown';
  return {
    code,
    title: TITLES[code] ?? 'The import failed',
    message: typeof e.message === 'string' && e.message ? e.message : 'Something went wrong; try again.',
    file: typeof e.file === 'string' ? e.file : null,
  };
}
