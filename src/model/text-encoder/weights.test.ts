import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { MemorySource } from '../safetensors/source';
import { NodeFileSource } from '../safetensors/node-source';
import { SafetensorsFile } from '../safetensors/reader';
import { mapClipL, mapOpenClipG } from '../weights/clip-sgm';
import { parseTextEncoderConfig, SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG, type TextEncoderConfig } from './config';
import { buildSingleFileTextEncoders, readAll, TE1_FILE, TE2_FILE } from './fixtures.test-util';
import { fileTensorSource, mappedTensorSource, type TensorSource } from './source';
import { parameterCount, textEncoderWeightShapes } from './weights';
import { DEFAULT_EMBEDDING_BLOCK_BYTES, embeddingBlockRows } from './load';
import { rowBlocks } from '../../ops/embedding';

const config = (dir: string): TextEncoderConfig => parseTextEncoderConfig(JSON.parse(readFileSync(`golden/models/${dir}/config.json`, 'utf8')));
const opened: SafetensorsFile[] = [];
const open = async (path: string) => {
  const f = await SafetensorsFile.open(await NodeFileSource.open(path));
  opened.push(f);
  return f;
};
afterAll(async () => {
  for (const f of opened) await f.close();
});

async function readSource(src: TensorSource, name: string): Promise<Float32Array> {
  const n = src.shape(name).reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for await (const c of src.chunks(name, 'f32')) out.set(c.data, c.elementOffset);
  return out;
}

describe('text encoder weight list', () => {
  it('equals the golden model files headers exactly (names and shapes), with the README param counts', async () => {
    for (const [dir, path, params, count] of [['text_encoder', TE1_FILE, 1_621_696, 52], ['text_encoder_2', TE2_FILE, 2_490_000, 69]] as const) {
      const shapes = textEncoderWeightShapes(config(dir));
      const file = await open(path);
      expect(new Map(file.tensors.map((t) => [t.name, [...t.shape]]))).toEqual(shapes);
      expect(shapes.size).toBe(count);
      expect(parameterCount(shapes)).toBe(params);
    }
  });

  it('counts the real SDXL encoders: CLIP-L 123.06 M, OpenCLIP-bigG 694.66 M parameters', () => {
    // 123,060,480 (openai/clip-vit-large-patch14 text tower) and 694,659,840 (incl. the 1280² projection)
    expect(parameterCount(textEncoderWeightShapes(SDXL_CLIP_L_CONFIG))).toBe(123_060_480);
    expect(parameterCount(textEncoderWeightShapes(SDXL_OPENCLIP_G_CONFIG))).toBe(694_659_840);
    expect(textEncoderWeightShapes(SDXL_OPENCLIP_G_CONFIG).get('text_projection.weight')).toEqual([1280, 1280]);
    expect(textEncoderWeightShapes(SDXL_CLIP_L_CONFIG).has('text_projection.weight')).toBe(false);
  });
});

describe('token embedding row blocks', () => {
  it('keep every binding of the real tables at or under 64 MiB (bigG f32: 4 blocks, f16: 2; CLIP-L f32: 3)', () => {
    for (const [hidden, dtype, blocks] of [[1280, 'f32', 4], [1280, 'f16', 2], [768, 'f32', 3], [768, 'f16', 2]] as const) {
      const rows = embeddingBlockRows(hidden, dtype, DEFAULT_EMBEDDING_BLOCK_BYTES);
      const split = rowBlocks(49408, rows);
      expect(split).toHaveLength(blocks);
      expect(split.reduce((n, b) => n + b.rows, 0)).toBe(49408);
      expect(rows * hidden * (dtype === 'f32' ? 4 : 2)).toBeLessThanOrEqual(64 << 20);
    }
    expect(() => embeddingBlockRows(1280, 'f32', 1000)).toThrow(RangeError);
  });
});

describe('text encoder tensor sources', () => {
  it('a single-file checkpoint through the clip-sgm mappings reads exactly what the folder files hold', async () => {
    const bytes = buildSingleFileTextEncoders();
    const ckpt = await SafetensorsFile.open(new MemorySource(bytes, 'tiny_sdxl.safetensors'));
    for (const [path, maps] of [[TE1_FILE, mapClipL(ckpt.names())], [TE2_FILE, mapOpenClipG(ckpt.names())]] as const) {
      const src = mappedTensorSource(ckpt, maps);
      const want = readAll(path);
      for (const [name, t] of want) {
        expect(src.shape(name), name).toEqual(t.shape);
        expect(Buffer.from((await readSource(src, name)).buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
      }
    }
  });

  it('a folder file reads as itself; a missing tensor is a named error', async () => {
    const file = await open(TE1_FILE);
    const src = fileTensorSource(file);
    const name = 'text_model.encoder.layers.2.mlp.fc1.weight';
    expect(Array.from(await readSource(src, name))).toEqual(Array.from(readAll(TE1_FILE).get(name)!.data));
    expect(() => src.shape('text_projection.weight')).toThrow(expect.objectContaining({ code: 'missing-tensor', tensor: 'text_projection.weight' }));
    const ckpt = await SafetensorsFile.open(new MemorySource(buildSingleFileTextEncoders(), 'x.safetensors'));
    expect(() => mappedTensorSource(ckpt, mapClipL(ckpt.names())).shape('text_projection.weight')).toThrow(expect.objectContaining({ code: 'missing-tensor' }));
  });
});
