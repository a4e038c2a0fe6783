/**
 * Byte sources over HTTP. With Range support (RFC 9110 §14: `Range: bytes=a-b` answered by
 * `206 Partial Content` and `Content-Range: bytes a-b/total`) every read is its own request, so the
 * reader fetches one tensor at a time. A server that ignores Range answers 200 with the whole body;
 * that body is then read once, front to back, and reads must come in ascending offsets (the reader's
 * tensor order) — an earlier offset is an `out-of-order` error.
 */
import { ModelFileError } from '../errors';
import { checkRange, withReadAhead, type ByteSource } from './source';

export interface UrlSourceOptions {
  /** Defaults to globalThis.fetch; tests pass a fake. */
  fetch?: typeof fetch;
  /** Name for messages (defaults to the URL). */
  name?: string;
  /** Extra request headers (e.g. Authorization for a gated Hugging Face repo). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Range mode: small reads are served from blocks of this many bytes (withReadAhead); 0 turns it off. */
  readAheadBytes?: number;
}

/** Parses `bytes a-b/total`; returns the total, or undefined when absent or `*`. */
export function parseContentRangeTotal(value: string | null): number | undefined {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+)$/i.exec(value?.trim() ?? '');
  if (!m) return undefined;
  const total = Number(m[3]);
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Content-Length of a response whose body is not re-encoded; Infinity when unknown. */
function bodyLength(resp: Response): number {
  const enc = resp.headers.get('content-encoding');
  if (enc && enc !== 'identity') return Infinity; // the body fetch() hands us is the decoded one
  const n = Number(resp.headers.get('content-length') ?? NaN);
  return Number.isSafeInteger(n) && n >= 0 ? n : Infinity;
}

/**
 * Opens a URL: probes with a one-byte Range request; 206 gives a seekable range source, 200 falls
 * back to streaming that same response once.
 */
export async function openUrlSource(url: string, opts: UrlSourceOptions = {}): Promise<ByteSource> {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const name = opts.name ?? url;
  const get = (headers: Record<string, string>, method = 'GET') =>
    doFetch(url, { method, headers: { ...opts.headers, ...headers }, signal: opts.signal ?? null }).catch((err: unknown) => {
      throw new ModelFileError('io', name, `the request failed (${(err as Error).message})`);
    });
  const probe = await get({ Range: 'bytes=0-0' });
  if (probe.status === 206) {
    await probe.body?.cancel();
    let size = parseContentRangeTotal(probe.headers.get('content-range'));
    if (size === undefined) {
      // Content-Range may be hidden by CORS (not in Access-Control-Expose-Headers); ask with HEAD.
      const head = await get({}, 'HEAD');
      size = bodyLength(head);
      if (!Number.isFinite(size)) throw new ModelFileError('io', name, 'the server gives neither Content-Range nor Content-Length');
    }
    const src = new RangeSource(url, size, name, get);
    const block = opts.readAheadBytes ?? 4 << 20;
    return block > 0 ? withReadAhead(src, block) : src;
  }
  if (probe.status === 200) return responseSource(probe, name);
  await probe.body?.cancel();
  throw new ModelFileError('io', name, `the server answered HTTP ${probe.status} ${probe.statusText}`);
}

type Getter = (headers: Record<string, string>) => Promise<Response>;

class RangeSource implements ByteSource {
  readonly seekable = true;
  constructor(
    private readonly url: string,
    readonly size: number,
    readonly name: string,
    private readonly get: Getter,
  ) {}
  async read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    checkRange(this, offset, length);
    if (length === 0) return new Uint8Array(0);
    const resp = await this.get({ Range: `bytes=${offset}-${offset + length - 1}` });
    if (resp.status !== 206) {
      await resp.body?.cancel();
      throw new ModelFileError('io', this.name, `a Range request for ${length} bytes at ${offset} got HTTP ${resp.status} instead of 206`);
    }
    const bytes = new Uint8Array(await resp.arrayBuffer());
    if (bytes.byteLength !== length) {
      throw new ModelFileError('truncated', this.name, `a Range request for ${length} bytes at ${offset} returned ${bytes.byteLength}`);
    }
    return bytes;
  }
}

/** A forward-only source over a response body (or any byte stream) that is read once. */
export function responseSource(resp: Response, name = resp.url || 'response'): ByteSource {
  if (!resp.body) throw new ModelFileError('io', name, 'the response has no body');
  return new StreamSource(resp.body, bodyLength(resp), name);
}

export class StreamSource implements ByteSource {
  readonly seekable = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Stream position of pending[0]. */
  private pos = 0;
  private pending: Uint8Array = new Uint8Array(0);
  /** Reads run one after another so concurrent calls see the stream in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    stream: ReadableStream<Uint8Array>,
    readonly size: number,
    readonly name: string,
  ) {
    this.reader = stream.getReader();
  }

  read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    checkRange(this, offset, length);
    const next = this.queue.then(() => this.readNow(offset, length));
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.reader.cancel();
  }

  private async readNow(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    if (offset < this.pos) {
      throw new ModelFileError('out-of-order', this.name, `bytes at ${offset} were requested after the stream passed ${this.pos}`);
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length || this.pos < offset) {
      if (this.pending.byteLength === 0) {
        const { done, value } = await this.reader.read();
        if (done) {
          throw new ModelFileError('truncated', this.name, `the stream ended at byte ${this.pos}, before ${offset + length}`);
        }
        this.pending = value;
        continue;
      }
      const skip = Math.max(0, Math.min(offset - this.pos, this.pending.byteLength));
      const take = skip > 0 ? 0 : Math.min(length - filled, this.pending.byteLength);
      if (take > 0) out.set(this.pending.subarray(0, take), filled);
      filled += take;
      this.pending = this.pending.subarray(skip + take);
      this.pos += skip + take;
    }
    return out;
  }
}
