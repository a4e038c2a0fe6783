/**
 * What a person reads when something fails (issue 13, point 3: no raw exception text on screen). The
 * studio's own named errors (ImageTooLargeError, LoraNotFoundError, the GPU errors, …) are written for
 * people: their message is shown with a plain title. The JavaScript and DOM built-ins (RangeError,
 * TypeError, OperationError, …) carry a programmer's message: those get a plain sentence instead, and
 * their text goes to the console only.
 */
import type { SerializedError } from '../gpu';

export interface PlainError {
  title: string;
  message: string;
  /** The studio's own error name (for a bug report); absent for the built-ins. */
  reference?: string;
}

/** Built-in error names whose messages are not meant for people. */
const BUILT_IN = new Set(['Error', 'RangeError', 'TypeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError', 'InternalError', 'OperationError', 'UnknownError', 'DataError', 'InvalidStateError', 'NotSupportedError', 'EncodingError', 'DataCloneError', 'InvalidAccessError', 'NotReadableError', 'ConstraintError', 'TransactionInactiveError', 'ReadOnlyError', 'VersionError', 'TimeoutError', 'NetworkError', 'NotFoundError', 'SecurityError']);

const BUILT_IN_TEXT: Record<string, PlainError> = {
  QuotaExceededError: { title: 'Storage is full', message: 'This browser has no room left for the studio. Delete images or models on the Settings page, then try again.' },
  AbortError: { title: 'Cancelled', message: 'The run was cancelled.' },
  NotAllowedError: { title: 'Not allowed', message: 'The browser did not allow this. Check the site permissions and try again.' },
  OperationError: { title: 'The GPU could not do this', message: 'The GPU refused the work, often for lack of memory. Try a smaller size, fewer images, or Low memory on the Settings page.' },
  NetworkError: { title: 'No connection', message: 'The download could not reach the server. Check the connection and try again.' },
};

const GENERIC: PlainError = {
  title: 'Something went wrong',
  message: 'The studio could not finish this. Try again; a smaller size or fewer steps may help. If it keeps happening, reload the studio (your images, scenes and concepts are kept).',
};

/** "LoraNotFoundError" → "Lora not found". */
function humanName(name: string): string {
  const words = name.replace(/Error$/, '').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : 'Something went wrong';
}

export function plainError(e: SerializedError | { name?: string; message?: string } | null | undefined): PlainError {
  const name = e?.name ?? 'Error';
  if (BUILT_IN_TEXT[name]) return BUILT_IN_TEXT[name];
  if (BUILT_IN.has(name) || !/Error$/.test(name) || !e?.message) return GENERIC;
  return { title: humanName(name), message: e.message, reference: name };
}

/**
 * The reason to put after "The gallery could not be read: …": the studio's own errors and its own
 * checks speak for themselves; a browser or storage exception (a DOMException such as
 * QuotaExceededError, or an unnamed failure) gets a plain sentence, and its raw text goes to the console.
 */
export function reasonOf(err: unknown): string {
  const e = err as { name?: string; message?: string } | null;
  const name = e?.name ?? '';
  const dom = typeof DOMException !== 'undefined' && err instanceof DOMException;
  if (BUILT_IN_TEXT[name] || dom || !(err instanceof Error) || !e?.message) {
    console.error(err);
    return plainError(e ?? undefined).message;
  }
  return e.message;
}
