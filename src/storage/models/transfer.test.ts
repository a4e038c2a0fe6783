import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../../model/errors';
import { copyInto, downloadInto, parseContentRangeStart } from './transfer';
import type { PartialWriter } from './writer';

/** A PartialWriter over memory. */
function memoryWriter(initial: Uint8Array = new Uint8Array(0)): PartialWriter & { bytes(): Uint8Array } {
  let buf = initial.slice();
  return {
    get size() {
      return buf.byteLength;
    },
    async write(chunk) {
      const next = new Uint8Array(buf.byteLength + chunk.byteLength);
      next.set(buf);
      next.set(chunk, buf.byteLength);
      buf = next;
    },
    async truncate(n) {
      buf = buf.slice(0, n);
    },
    async close() {},
    bytes: () => buf,
  };
}

const SOURCE = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff);

interface Call {
  range: string | null;
}

/**
 * A fake server for SOURCE: honours `Range: bytes=a-` with 206 (or ignores it: 200), and for the
 * first `drops` requests ends the body with a network error after `dropAfter` bytes.
 */
function fakeServer(opts: { drops?: number; dropAfter?: number; ignoreRange?: boolean; status?: number } = {}) {
  const calls: Call[] = [];
  let drops = opts.drops ?? 0;
  const fakeFetch = (async (_url: string, init?: RequestInit): Promise<Response> => {
    const range = new Headers(init?.headers).get('range');
    calls.push({ range });
    if (opts.status) return new Response('nope', { status: opts.status });
    const start = range && !opts.ignoreRange ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const body = SOURCE.slice(start);
    const drop = drops-- > 0;
    const cut = drop ? Math.min(opts.dropAfter ?? 0, body.byteLength) : body.byteLength;
    // One chunk per pull: error() discards queued chunks, so the cut must come after they were read.
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at < cut) {
          c.enqueue(body.slice(at, Math.min(cut, at + 1000)));
          at += 1000;
        } else if (drop) c.error(new TypeError('network error'));
        else c.close();
      },
    });
    const headers: Record<string, string> = { 'content-length': String(body.byteLength) };
    if (start > 0) headers['content-range'] = `bytes ${start}-${SOURCE.byteLength - 1}/${SOURCE.byteLength}`;
    return new Response(stream, { status: start > 0 ? 206 : 200, headers });
  }) as typeof globalThis.fetch;
  return { fetch: fakeFetch, calls };
}

const noWait = async () => {};

describe('downloadInto', () => {
  it('downloads a whole file', async () => {
    const s = fakeServer();
    const w = memoryWriter();
    expect(await downloadInto('u', w, SOURCE.byteLength, 'f', { fetch: s.fetch, sleep: noWait })).toBe(SOURCE.byteLength);
    expect(w.bytes()).toEqual(SOURCE);
    expect(s.calls).toEqual([{ range: null }]);
  });
  it('after a dropped connection resumes with Range from the byte it stopped at', async () => {
    const s = fakeServer({ drops: 2, dropAfter: 3000 });
    const w = memoryWriter();
    const retries: number[] = [];
    await downloadInto('u', w, SOURCE.byteLength, 'f', { fetch: s.fetch, sleep: noWait, onRetry: (n) => retries.push(n) });
    expect(w.bytes()).toEqual(SOURCE);
    expect(s.calls.map((c) => c.range)).toEqual([null, 'bytes=3000-', 'bytes=6000-']);
    expect(retries).toEqual([1, 1]); // each drop came after new bytes: the count restarts
  });
  it('continues a partial file left by an earlier session', async () => {
    const s = fakeServer();
    const w = memoryWriter(SOURCE.slice(0, 4321));
    const seen: number[] = [];
    await downloadInto('u', w, SOURCE.byteLength, 'f', { fetch: s.fetch, sleep: noWait, onBytes: (n) => seen.push(n) });
    expect(s.calls).toEqual([{ range: 'bytes=4321-' }]);
    expect(w.bytes()).toEqual(SOURCE);
    expect(seen[seen.length - 1]).toBe(SOURCE.byteLength);
  });
  it('restarts the file when the server answers 200 to a Range request', async () => {
    const s = fakeServer({ ignoreRange: true });
    const w = memoryWriter(new Uint8Array(500).fill(9));
    await downloadInto('u', w, SOURCE.byteLength, 'f', { fetch: s.fetch, sleep: noWait });
    expect(w.bytes()).toEqual(SOURCE);
  });
  it('skips the request when the partial file is already complete', async () => {
    const s = fakeServer();
    const w = memoryWriter(SOURCE);
    await downloadInto('u', w, SOURCE.byteLength, 'f', { fetch: s.fetch, sleep: noWait });
    expect(s.calls).toEqual([]);
  });
  it('gives up after the retries, keeping the bytes, with an io error naming the file', async () => {
    const s = fakeServer({ drops: 100, dropAfter: 0 });
    const w = memoryWriter(SOURCE.slice(0, 100));
    const err = await downloadInto('u', w, SOURCE.byteLength, 'unet/x.safetensors', {
      fetch: s.fetch,
      sleep: noWait,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).code).toBe('io');
    expect((err as Error).message).toMatch(/^unet\/x\.safetensors: the download failed 2 times in a row.*100 bytes so far are kept/);
    expect(s.calls.length).toBe(3);
    expect(w.size).toBe(100);
  });
  it('does not retry a 404, and stops at once on abort', async () => {
    const s = fakeServer({ status: 404 });
    await expect(downloadInto('u', memoryWriter(), null, 'f', { fetch: s.fetch, sleep: noWait })).rejects.toThrow(/HTTP 404.*not there/);
    expect(s.calls.length).toBe(1);
    const ac = new AbortController();
    ac.abort(new DOMException('cancelled', 'AbortError'));
    await expect(downloadInto('u', memoryWriter(), null, 'f', { fetch: fakeServer().fetch, signal: ac.signal })).rejects.toThrow('cancelled');
  });
  it('parses Content-Range starts', () => {
    expect(parseContentRangeStart('bytes 100-199/200')).toBe(100);
    expect(parseContentRangeStart('bytes 5-9/*')).toBe(5);
    expect(parseContentRangeStart(null)).toBeUndefined();
  });
});

describe('copyInto', () => {
  it('copies a blob in chunks and resumes after the bytes already there', async () => {
    const blob = new Blob([SOURCE]);
    const w = memoryWriter(SOURCE.slice(0, 2500));
    await copyInto(blob, w, {}, 1024);
    expect(w.bytes()).toEqual(SOURCE);
    const fresh = memoryWriter(new Uint8Array(20_000));
    await copyInto(blob, fresh, {}, 4096); // longer than the source: a different file, start over
    expect(fresh.bytes()).toEqual(SOURCE);
  });
});
