/**
 * Moving bytes into a partial file: a download that resumes with `Range: bytes=<have>-` (RFC 9110
 * §14.2: a 206 continues at <have>, a 200 is the whole file again and restarts it) after a dropped
 * connection, and a copy from a picked file (Blob.slice, so a resumed copy reads only what is left).
 */
import { parseContentRangeTotal } from '../../model/safetensors/http-source';
import { ModelFileError } from '../../model/errors';
import { isAbort } from '../errors';
import { DEFAULT_RETRY, isRetryableStatus, RetryCounter, sleep, type RetryPolicy } from './retry';
import type { PartialWriter } from './writer';

export interface TransferOptions {
  signal?: AbortSignal;
  /** Called with the file's byte count so far (it goes back to 0 when a download restarts). */
  onBytes?(done: number): void;
  /** A retry is scheduled: which one and after how long. */
  onRetry?(attempt: number, delayMs: number, reason: string): void;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  retry?: RetryPolicy;
  /** Tests replace the wait between retries. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** A failure that a new request may cure (a dropped connection, a 5xx, a body shorter than announced). */
class TransientError extends Error {
  override name = 'TransientError';
}

/** `bytes a-b/total` -> a. */
export function parseContentRangeStart(value: string | null): number | undefined {
  const m = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The whole file's length from a 200 (Content-Length) or a 206 (Content-Range total, or have + length). */
function totalFromResponse(resp: Response, have: number): number | null {
  const len = Number(resp.headers.get('content-length') ?? NaN);
  const enc = resp.headers.get('content-encoding');
  const plainLen = Number.isSafeInteger(len) && (!enc || enc === 'identity') ? len : null;
  if (resp.status === 206) return parseContentRangeTotal(resp.headers.get('content-range')) ?? (plainLen === null ? null : have + plainLen);
  return plainLen;
}

/** Network failures: fetch() and body reads reject with TypeError; our own TransientError. */
function isTransient(err: unknown): boolean {
  return err instanceof TypeError || err instanceof TransientError;
}

/**
 * Downloads `url` into `writer`, continuing after the bytes already there. `expected` (from the hub's
 * file list) lets a complete partial file skip the request. Returns the final size.
 */
export async function downloadInto(url: string, writer: PartialWriter, expected: number | null, label: string, o: TransferOptions = {}): Promise<number> {
  const doFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  const wait = o.sleep ?? sleep;
  const retries = new RetryCounter(o.retry ?? DEFAULT_RETRY);
  if (expected !== null && writer.size > expected) await writer.truncate(0);
  if (expected !== null && writer.size === expected) {
    o.onBytes?.(writer.size);
    return writer.size;
  }
  for (;;) {
    o.signal?.throwIfAborted();
    const startedAt = writer.size;
    try {
      return await attempt(doFetch, url, writer, expected, label, o);
    } catch (err) {
      if (o.signal?.aborted) throw o.signal.reason;
      if (isAbort(err) || !isTransient(err)) throw err;
      const delay = retries.fail(writer.size > startedAt);
      const why = (err as Error).message;
      if (delay === null) {
        throw new ModelFileError('io', label, `the download failed ${retries.count - 1} times in a row (last: ${why}); the ${writer.size} bytes so far are kept, so Resume continues from there`);
      }
      o.onRetry?.(retries.count, delay, why);
      await wait(delay, o.signal);
    }
  }
}

async function attempt(doFetch: typeof fetch, url: string, writer: PartialWriter, expected: number | null, label: string, o: TransferOptions): Promise<number> {
  const have = writer.size;
  const headers: Record<string, string> = { ...o.headers };
  if (have > 0) headers.Range = `bytes=${have}-`;
  const resp = await doFetch(url, { headers, signal: o.signal ?? null, cache: 'no-store' });
  if (resp.status === 416 && have > 0) {
    // Nothing after <have>: the partial file already holds the whole file (or more, when it changed).
    await resp.body?.cancel();
    const total = parseContentRangeTotal(resp.headers.get('content-range')?.replace(/^bytes \*\//, 'bytes 0-0/') ?? null);
    if (total === have || (total === undefined && expected === null)) return have;
    await writer.truncate(0);
    throw new TransientError(`the server has ${total ?? 'fewer'} bytes, the partial file ${have}: starting over`);
  }
  if (resp.status === 206 && have > 0) {
    const start = parseContentRangeStart(resp.headers.get('content-range'));
    if (start !== undefined && start !== have) {
      await resp.body?.cancel();
      await writer.truncate(0);
      throw new TransientError(`the server resumed at byte ${start} instead of ${have}: starting over`);
    }
  } else if (resp.status === 200) {
    if (have > 0) {
      await writer.truncate(0); // Range ignored: this is the whole file again
      o.onBytes?.(0);
    }
  } else {
    await resp.body?.cancel();
    const msg = `the server answered HTTP ${resp.status} ${resp.statusText}`.trim();
    if (isRetryableStatus(resp.status)) throw new TransientError(msg);
    throw new ModelFileError('io', label, resp.status === 404 ? `${msg}: the file is not there` : msg);
  }
  const total = expected ?? totalFromResponse(resp, writer.size);
  if (!resp.body) throw new ModelFileError('io', label, 'the response has no body');
  const reader = resp.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total !== null && writer.size + value.byteLength > total) {
        throw new ModelFileError('size-mismatch', label, `the server sent more than the ${total} bytes it announced`);
      }
      await writer.write(value);
      o.onBytes?.(writer.size);
    }
  } finally {
    reader.releaseLock();
  }
  if (total !== null && writer.size < total) throw new TransientError(`the connection closed at byte ${writer.size} of ${total}`);
  return writer.size;
}

/** Copies `blob` into `writer` from the bytes already there (a resumed copy of the same file). */
export async function copyInto(blob: Blob, writer: PartialWriter, o: TransferOptions = {}, chunkBytes = 8 << 20): Promise<number> {
  if (writer.size > blob.size) await writer.truncate(0);
  o.onBytes?.(writer.size);
  while (writer.size < blob.size) {
    o.signal?.throwIfAborted();
    const end = Math.min(blob.size, writer.size + chunkBytes);
    const bytes = new Uint8Array(await blob.slice(writer.size, end).arrayBuffer());
    await writer.write(bytes);
    o.onBytes?.(writer.size);
  }
  return writer.size;
}
