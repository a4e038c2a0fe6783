import { openAsBlob, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../errors';
import { openUrlSource, parseContentRangeTotal, responseSource } from './http-source';
import { NodeFileSource } from './node-source';
import { SafetensorsFile } from './reader';
import { BlobSource, opfsSource, type ByteSource } from './source';

const VAE = 'golden/models/vae/diffusion_pytorch_model.safetensors';
const gold = new Uint8Array(readFileSync(VAE));

/** Every tensor of the file through `src`, in data order, as hex of its f32 bytes (cheap to compare). */
async function readAll(src: ByteSource): Promise<Map<string, string>> {
  const f = await SafetensorsFile.open(src);
  const out = new Map<string, string>();
  for (const t of f.tensors) out.set(t.name, Buffer.from((await f.read(t.name, 'f32')).buffer).toString('hex'));
  await f.close();
  return out;
}

let reference: Map<string, string>;
beforeAll(async () => {
  reference = await readAll(await NodeFileSource.open(VAE));
  expect(reference.size).toBe(248);
});

/** A fetch that serves `bytes` like a static file server; `ranges` false ignores Range (answers 200). */
function fakeFetch(bytes: Uint8Array, opts: { ranges: boolean; exposeContentRange?: boolean; chunk?: number }) {
  const log: string[] = [];
  const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    const range = headers.get('range');
    log.push(`${init?.method ?? 'GET'} ${range ?? 'all'}`);
    if (init?.method === 'HEAD') return new Response(null, { status: 200, headers: { 'content-length': String(bytes.byteLength) } });
    const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
    if (opts.ranges && m) {
      const [a, b] = [+m[1]!, Math.min(+m[2]!, bytes.byteLength - 1)];
      const h: Record<string, string> = { 'content-length': String(b - a + 1) };
      if (opts.exposeContentRange !== false) h['content-range'] = `bytes ${a}-${b}/${bytes.byteLength}`;
      return new Response(bytes.slice(a, b + 1), { status: 206, headers: h });
    }
    // Whole body, delivered in small pieces so reads straddle chunk boundaries.
    const size = opts.chunk ?? 1000;
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= bytes.byteLength) return c.close();
        c.enqueue(bytes.slice(at, (at += size)));
      },
    });
    return new Response(body, { status: 200, headers: { 'content-length': String(bytes.byteLength) } });
  };
  return { fetch: fetch as typeof globalThis.fetch, log };
}

describe('byte sources give identical tensors', () => {
  it('Blob (a file-backed Blob from fs.openAsBlob, as a browser File is)', async () => {
    const blob = await openAsBlob(VAE);
    expect(await readAll(new BlobSource(blob, 'vae.safetensors'))).toEqual(reference);
  });

  it('OPFS: FileSystemFileHandle -> getFile() -> Blob', async () => {
    const blob = await openAsBlob(VAE);
    const src = await opfsSource({ name: 'vae.safetensors', getFile: async () => blob });
    expect(src.name).toBe('vae.safetensors');
    expect(await readAll(src)).toEqual(reference);
    const failing = { name: 'gone.safetensors', getFile: () => Promise.reject(new Error('NotFoundError')) };
    await expect(opfsSource(failing)).rejects.toMatchObject({ code: 'io', file: 'gone.safetensors' });
  });

  it('HTTP with Range: one request per read without read-ahead, a few blocks with it', async () => {
    const { fetch, log } = fakeFetch(gold, { ranges: true });
    const src = await openUrlSource('https://example.test/vae.safetensors', { fetch, readAheadBytes: 0 });
    expect(src.seekable).toBe(true);
    expect(src.size).toBe(gold.byteLength);
    expect(await readAll(src)).toEqual(reference);
    expect(log[0]).toBe('GET bytes=0-0');
    expect(log).toHaveLength(1 + 2 + 248); // probe, length + header, one per tensor
    const blocked = fakeFetch(gold, { ranges: true });
    const src2 = await openUrlSource('https://example.test/vae.safetensors', { fetch: blocked.fetch, readAheadBytes: 1 << 20 });
    expect(await readAll(src2)).toEqual(reference);
    // 5.07 MB in 1 MiB blocks (a block restarts at the read that leaves the previous one): a handful.
    expect(blocked.log.length).toBeLessThanOrEqual(1 + Math.ceil(gold.byteLength / (1 << 20)) * 2 + 2);
  });

  it('HTTP with Range but Content-Range hidden (CORS): the size comes from HEAD', async () => {
    const { fetch, log } = fakeFetch(gold, { ranges: true, exposeContentRange: false });
    const src = await openUrlSource('https://example.test/vae.safetensors', { fetch });
    expect(src.size).toBe(gold.byteLength);
    expect(log.slice(0, 2)).toEqual(['GET bytes=0-0', 'HEAD all']);
  });

  it('HTTP without Range: the 200 body is streamed once, in order', async () => {
    const { fetch, log } = fakeFetch(gold, { ranges: false, chunk: 777 });
    const src = await openUrlSource('https://example.test/vae.safetensors', { fetch });
    expect(src.seekable).toBe(false);
    expect(await readAll(src)).toEqual(reference);
    expect(log).toEqual(['GET bytes=0-0']);
  });

  it('a stream refuses to go backwards (out-of-order) and reports a short body as truncated', async () => {
    const { fetch } = fakeFetch(gold, { ranges: false });
    const f = await SafetensorsFile.open(responseSource(await fetch('u'), 'stream.safetensors'));
    await f.read(f.tensors[5]!.name, 'f32');
    await expect(f.read(f.tensors[2]!.name, 'f32')).rejects.toMatchObject({ code: 'out-of-order', file: 'stream.safetensors' });
    const short = new Response(gold.slice(0, 200_000), { headers: { 'content-length': String(gold.byteLength) } });
    const g = await SafetensorsFile.open(responseSource(short, 'short.safetensors'));
    const err = await g.read(g.tensors.at(-1)!.name, 'f32').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).code).toBe('truncated');
  });

  it('HTTP errors are io errors naming the URL', async () => {
    const notFound = (async () => new Response('no', { status: 404, statusText: 'Not Found' })) as typeof fetch;
    await expect(openUrlSource('https://example.test/missing.safetensors', { fetch: notFound })).rejects.toMatchObject({
      code: 'io',
      file: 'https://example.test/missing.safetensors',
    });
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await expect(openUrlSource('https://example.test/x', { fetch: offline })).rejects.toMatchObject({ code: 'io' });
  });

  it('parses Content-Range totals', () => {
    expect(parseContentRangeTotal('bytes 0-0/5070000')).toBe(5070000);
    expect(parseContentRangeTotal('bytes 0-0/*')).toBeUndefined();
    expect(parseContentRangeTotal(null)).toBeUndefined();
  });
});

describe('a real HTTP server with Range support (node:http + fetch)', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) {
        res.writeHead(200, { 'content-length': gold.byteLength }).end(gold);
        return;
      }
      const [a, b] = [+m[1]!, +m[2]!];
      res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${gold.byteLength}`, 'content-length': b - a + 1 }).end(gold.subarray(a, b + 1));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vae.safetensors`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reads the golden VAE tensor by tensor', async () => {
    const src = await openUrlSource(url);
    expect(src.seekable).toBe(true);
    expect(src.name).toBe(url);
    expect(await readAll(src)).toEqual(reference);
  });
});
