import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFileError, type ModelFileErrorCode } from '../errors';
import { NodeFileSource } from './node-source';
import { SafetensorsFile } from './reader';
import { MemorySource, type ByteSource } from './source';
import { encodeSafetensors } from './writer';

const UNET = 'golden/models/unet/diffusion_pytorch_model.safetensors';
const tmp = mkdtempSync(join(tmpdir(), 'cidm-st-'));
const opened: SafetensorsFile[] = [];

async function open(path: string): Promise<SafetensorsFile> {
  const f = await SafetensorsFile.open(await NodeFileSource.open(path));
  opened.push(f);
  return f;
}
afterAll(async () => {
  for (const f of opened) await f.close();
});

/** The golden file parsed naively in memory (as golden/README.md's minimal reader does). */
function naive(path: string) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  return { buf, base: 8 + n, header };
}

/** Writes bytes to a temp file named `name` and expects opening/reading it to fail with `code`. */
async function expectError(name: string, bytes: Uint8Array, code: ModelFileErrorCode, tensor?: string, act?: (f: SafetensorsFile) => Promise<unknown>) {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  const err = await (async () => {
    const f = await open(path);
    await act?.(f);
  })().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelFileError);
  const e = err as ModelFileError;
  expect(e.code).toBe(code);
  expect(e.file).toBe(name);
  expect(e.message).toContain(name);
  if (tensor !== undefined) {
    expect(e.tensor).toBe(tensor);
    expect(e.message).toContain(`"${tensor}"`);
  }
  return e;
}

function headerBytes(header: unknown, dataBytes: number, pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  return out;
}

describe('SafetensorsFile on the golden files', () => {
  it('reads every UNet tensor exactly as stored, in data order', async () => {
    const f = await open(UNET);
    const { buf, base, header } = naive(UNET);
    expect(f.name).toBe('diffusion_pytorch_model.safetensors');
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(f.tensors).toHaveLength(840);
    expect(f.dataStart).toBe(base);
    let prevEnd = 0;
    for (const t of f.tensors) {
      expect(t.begin).toBe(prevEnd);
      prevEnd = t.end;
      const h = header[t.name]!;
      expect([t.dtype, t.shape, [t.begin, t.end]]).toEqual([h.dtype, h.shape, h.data_offsets]);
    }
    for (const name of ['conv_in.weight', 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight', 'conv_out.bias']) {
      const [b, e] = header[name]!.data_offsets;
      const expected = new Float32Array(buf.buffer.slice(buf.byteOffset + base + b, buf.byteOffset + base + e));
      expect(await f.read(name, 'f32')).toEqual(expected);
    }
  });

  it('streams a tensor in bounded chunks that reassemble it, in f32 and in f16', async () => {
    const f = await open(UNET);
    const name = 'add_embedding.linear_1.weight'; // [64, 128]
    const whole = await f.read(name, 'f32');
    const parts: number[] = [];
    for await (const c of f.chunks(name, 'f32', 1000)) {
      expect(c.data.length).toBeLessThanOrEqual(250);
      expect(c.elementOffset).toBe(parts.length);
      parts.push(...c.data);
    }
    expect(Float32Array.from(parts)).toEqual(whole);
    const half = await f.read(name, 'f16');
    let at = 0;
    for await (const c of f.chunks(name, 'f16', 4096)) {
      expect(c.data).toEqual(half.subarray(at, at + c.data.length));
      at += c.data.length;
    }
    expect(at).toBe(64 * 128);
  });

  it('reads every golden file of every kind (models, LoRAs, a case with I64 ids)', async () => {
    const files = [
      'golden/models/vae/diffusion_pytorch_model.safetensors',
      'golden/models/text_encoder/model.safetensors',
      'golden/models/text_encoder_2/model.safetensors',
      'golden/lora/lora_kohya.safetensors',
      'golden/cases/text_encoders.safetensors',
    ];
    for (const p of files) {
      const f = await open(p);
      const { header } = naive(p);
      expect(f.names().sort()).toEqual(Object.keys(header).filter((k) => k !== '__metadata__').sort());
    }
    expect(opened.at(-5)!.tensors).toHaveLength(248); // golden/README.md: the VAE has 248 tensors
    const cases = opened[opened.length - 1]!;
    expect(cases.info('input.input_ids_1').dtype).toBe('I64');
    const ids = new BigInt64Array((await cases.readBytes('input.input_ids_1')).buffer);
    expect(ids[0]).toBe(49406n); // <|startoftext|>
    await expect(cases.read('input.input_ids_1', 'f32')).rejects.toMatchObject({ code: 'unsupported-dtype', tensor: 'input.input_ids_1' });
  });

  it('keeps every read bounded: the header plus one chunk, never the file', async () => {
    const inner = await NodeFileSource.open(UNET);
    let maxRead = 0;
    const counting: ByteSource = {
      name: inner.name,
      size: inner.size,
      seekable: true,
      read: (o, l) => ((maxRead = Math.max(maxRead, l)), inner.read(o, l)),
    };
    const f = await SafetensorsFile.open(counting);
    let total = 0;
    for (const t of f.tensors) for await (const c of f.chunks(t.name, 'f16', 8192)) total += c.data.length;
    await inner.close();
    expect(total).toBe(1_791_492);
    expect(maxRead).toBeLessThanOrEqual(Math.max(8192, f.dataStart - 8));
  });
});

describe('corrupt files give named errors with the file (and tensor) name', () => {
  const good = encodeSafetensors([
    { name: 'a', dtype: 'F32', shape: [2, 3], data: new Float32Array(6).fill(1) },
    { name: 'b', dtype: 'F16', shape: [4], data: new Uint16Array(4) },
  ]);

  it('a well-formed fixture reads back', async () => {
    const f = await SafetensorsFile.open(new MemorySource(good, 'good.safetensors'));
    expect(await f.read('a', 'f32')).toEqual(new Float32Array(6).fill(1));
    expect(f.names()).toEqual(['a', 'b']);
  });

  it('truncated: the file cut inside the data, inside the header, or shorter than 8 bytes', async () => {
    const gold = readFileSync(UNET);
    await expectError('cut.safetensors', gold.subarray(0, gold.byteLength - 100), 'truncated', 'up_blocks.2.resnets.2.time_emb_proj.weight');
    await expectError('cut-header.safetensors', gold.subarray(0, 5000), 'truncated');
    await expectError('tiny.safetensors', new Uint8Array(5), 'truncated');
  });

  it('bad-header: absurd length, invalid JSON, not an object, bad fields, overlap, hole', async () => {
    const huge = new Uint8Array(64);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    await expectError('huge.safetensors', huge, 'bad-header');
    const text = new TextEncoder().encode('{"a": [1, }');
    const badJson = new Uint8Array(8 + text.byteLength);
    new DataView(badJson.buffer).setBigUint64(0, BigInt(text.byteLength), true);
    badJson.set(text, 8);
    const e = await expectError('badjson.safetensors', badJson, 'bad-header');
    expect(e.message).toContain('not valid JSON');
    await expectError('array.safetensors', headerBytes([1, 2], 0), 'bad-header');
    await expectError('shape.safetensors', headerBytes({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), 'bad-header', 'w');
    await expectError('offsets.safetensors', headerBytes({ w: { dtype: 'F32', shape: [1], data_offsets: [4] } }, 4), 'bad-header', 'w');
    const overlap = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    await expectError('overlap.safetensors', headerBytes(overlap, 12), 'bad-header', 'b');
    const hole = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    await expectError('hole.safetensors', headerBytes(hole, 12), 'bad-header', 'b');
    const meta = { __metadata__: { format: 1 } };
    await expectError('meta.safetensors', headerBytes(meta, 0), 'bad-header');
  });

  it('size-mismatch: a header that lies about a shape, or bytes after the last tensor', async () => {
    const lying = { w: { dtype: 'F32', shape: [3, 3], data_offsets: [0, 32] } };
    const e = await expectError('lying.safetensors', headerBytes(lying, 32), 'size-mismatch', 'w');
    expect(e.message).toContain('36 bytes but data_offsets span 32');
    const trailing = new Uint8Array(good.byteLength + 16);
    trailing.set(good);
    await expectError('trailing.safetensors', trailing, 'size-mismatch');
  });

  it('unsupported-dtype: an unknown dtype string', async () => {
    await expectError('dtype.safetensors', headerBytes({ w: { dtype: 'F7', shape: [1], data_offsets: [0, 1] } }, 1), 'unsupported-dtype', 'w');
  });

  it('missing-tensor and wrong-model from lookups', async () => {
    await expectError('good.safetensors', good, 'missing-tensor', 'conv_in.weight', (f) => f.read('conv_in.weight', 'f32'));
    await expectError('good2.safetensors', good, 'wrong-model', 'a', async (f) => f.expectShape('a', [3, 2]));
  });

  it('accepts padding spaces, __metadata__, zero-size tensors and 0-d scalars', async () => {
    const header = {
      __metadata__: { format: 'pt' },
      s: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
      z: { dtype: 'F16', shape: [0, 5], data_offsets: [4, 4] },
    };
    const bytes = headerBytes(header, 4, 7);
    new DataView(bytes.buffer).setFloat32(bytes.byteLength - 4, 2.5, true);
    const f = await SafetensorsFile.open(new MemorySource(bytes, 'ok.safetensors'));
    expect(await f.readScalar('s')).toBe(2.5);
    expect((await f.read('z', 'f16')).length).toBe(0);
    expect(f.metadata.format).toBe('pt');
  });
});
