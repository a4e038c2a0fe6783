import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Concept } from '../../cidm/concepts/concept';
import { loraTargets } from '../../cidm/train/layers';
import { SafetensorsFile } from '../../model/safetensors/reader';
import { MemorySource } from '../../model/safetensors/source';
import { encodeSafetensors, type TensorToWrite } from '../../model/safetensors/writer';
import { unetArch } from '../../model/unet/arch';
import { ConceptFileError, type ConceptFileErrorCode } from './errors';
import { compareLoraModules, CONCEPT_FILE_FORMAT, conceptFileName, exportConcept, importConcept } from './export';
import { makeConcept, sameBits, sameConcept, SDXL_UNET_JSON } from './fixtures.test-util';
import { conceptTensors } from './record';

async function fails(bytes: Uint8Array | Blob, code: ConceptFileErrorCode, key?: string): Promise<ConceptFileError> {
  const e = await importConcept(bytes, 'x.cidm.safetensors').then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ConceptFileError);
  expect((e as ConceptFileError).code).toBe(code);
  if (key !== undefined) expect((e as ConceptFileError).key).toBe(key);
  expect((e as Error).message).toContain('x.cidm.safetensors');
  return e as ConceptFileError;
}

/** The concept file with its tensors or metadata changed, re-encoded. */
function variant(c: Concept, edit: (t: TensorToWrite[], md: Record<string, string>) => void): Uint8Array {
  const f = exportConcept(c);
  const n = Number(new DataView(f.buffer).getBigUint64(0, true));
  const md = (JSON.parse(new TextDecoder().decode(f.subarray(8, 8 + n))) as { __metadata__: Record<string, string> }).__metadata__;
  const tensors: TensorToWrite[] = conceptTensors(c).map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: t.data }));
  edit(tensors, md);
  return encodeSafetensors(tensors, md);
}

describe('concept files', () => {
  const c = makeConcept({ placeholders: ['<duck1>', '<duck2>', '<duck3>'], rank: 3 });

  it('export to one safetensors file the project reader opens, with the documented names, shapes and metadata', async () => {
    const bytes = exportConcept(c);
    // The writer's layout: 8-byte LE header length, the JSON padded with spaces to an 8-byte boundary.
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header.trimEnd().endsWith('}')).toBe(true);
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    const f = await SafetensorsFile.open(new MemorySource(bytes, 'c.safetensors'));
    expect(f.metadata).toEqual({
      format: CONCEPT_FILE_FORMAT,
      id: c.id,
      name: c.name,
      classWord: 'dog',
      placeholders: '["<duck1>","<duck2>","<duck3>"]',
      taskIndex: '2',
      layers: '28',
      rank: '3',
      hyper: JSON.stringify(c.hyper),
      modelId: c.modelId,
      createdAt: String(c.createdAt),
    });
    expect(f.info('token_embeds_1').shape).toEqual([28, 3, 768]);
    expect(f.info('token_embeds_2').shape).toEqual([28, 3, 1280]);
    expect(f.info('down_blocks.2.attentions.1.transformer_blocks.2.attn2.to_k.lora_down.weight').shape).toEqual([3, 80]);
    expect(f.info('down_blocks.2.attentions.1.transformer_blocks.2.attn2.to_k.lora_up.weight').shape).toEqual([48, 3]);
    expect(f.tensors.every((t) => t.dtype === 'F32')).toBe(true);
    // Data in name order (the writer sorts), tiling the data section.
    expect(f.tensors.map((t) => t.name)).toEqual([...f.names()].sort());
    expect(sameBits(await f.read('token_embeds_2', 'f32'), c.tokens[1]!)).toBe(true);
  });

  it('import back exactly: every field, every tensor bit, the trainer’s module order', async () => {
    const d = await importConcept(exportConcept(c));
    expect(sameConcept(d, c)).toBe(true);
    expect(Object.keys(d).sort()).toEqual(Object.keys(c).sort());
    expect(d.hyper).toEqual(c.hyper);
    // Values that JSON or f32 conversions could bend survive too.
    const odd = makeConcept({ id: 'odd' });
    odd.tokens[0]!.set([-0, 1e-45, 3.4028234663852886e38, NaN, -Infinity]);
    odd.hyper = { ...odd.hyper, lrLora: 0.1 + 0.2 };
    expect(sameConcept(await importConcept(exportConcept(odd)), odd)).toBe(true);
    // A Blob (a picked File) reads the same; a second export is byte-identical.
    const again = await importConcept(new Blob([exportConcept(c)]));
    expect(Buffer.from(exportConcept(again)).equals(Buffer.from(exportConcept(c)))).toBe(true);
  });

  it('order LoRA modules as the trainer does (SDXL base: 280 attn2 linears)', () => {
    const order = loraTargets(unetArch(SDXL_UNET_JSON)).map((t) => t.module);
    expect(order).toHaveLength(280);
    expect([...order].sort().sort(compareLoraModules)).toEqual(order);
  });

  it('truncated: cut inside the data or the header', async () => {
    const bytes = exportConcept(c);
    await fails(bytes.subarray(0, bytes.byteLength - 10), 'truncated');
    await fails(bytes.subarray(0, 100), 'truncated');
    await fails(new Blob([bytes.subarray(0, 4)]), 'truncated');
  });

  it('corrupt: a damaged header, bad shapes, orphan matrices, stray tensors, bad metadata', async () => {
    const bytes = exportConcept(c).slice();
    bytes[9] = 0x5b; // '{' → '['
    await fails(bytes, 'corrupt');
    await fails(variant(c, (t) => t.splice(0, 1)), 'corrupt', 'token_embeds_1'); // only token_embeds_2 left: numbering breaks
    await fails(variant(c, (t) => (t[0] = { ...t[0]!, shape: [28, 2, 1152] })), 'corrupt', 'token_embeds_1');
    await fails(variant(c, (t) => t.splice(t.findIndex((x) => x.name.endsWith('.lora_down.weight')), 1)), 'corrupt');
    await fails(variant(c, (t) => t.splice(t.findIndex((x) => x.name.endsWith('.lora_up.weight')), 1)), 'corrupt');
    await fails(variant(c, (t) => t.push({ name: 'extra', dtype: 'F32', shape: [1], data: new Float32Array(1) })), 'corrupt', 'extra');
    await fails(variant(c, (t) => t.splice(2)), 'corrupt'); // no LoRA
    await fails(variant(c, (_, md) => (md.rank = '4')), 'corrupt');
    await fails(variant(c, (_, md) => (md.placeholders = '["<a>", 3]')), 'corrupt', 'placeholders');
    await fails(variant(c, (_, md) => (md.hyper = '{"steps": 5}')), 'corrupt', 'hyper');
    await fails(variant(c, (_, md) => (md.taskIndex = '0')), 'corrupt', 'taskIndex');
    await fails(variant(c, (_, md) => delete md.modelId), 'corrupt', 'modelId');
  });

  it('not a concept: a LoRA file, an embedding, a file without metadata; newer format: a later version', async () => {
    await fails(readFileSync('golden/lora/lora_kohya.safetensors'), 'not-a-concept');
    await fails(encodeSafetensors([{ name: 'clip_l', dtype: 'F32', shape: [2, 4], data: new Float32Array(8) }]), 'not-a-concept');
    await fails(variant(c, (_, md) => delete md.format), 'not-a-concept');
    const e = await fails(variant(c, (_, md) => (md.format = 'cidm-studio-concept/2')), 'newer-format');
    expect(e.message).toContain('Update this studio');
  });

  it('suggest file names', () => {
    expect(conceptFileName({ name: 'Rex the dog!' }, 'concept')).toBe('Rex-the-dog.cidm.safetensors');
    expect(conceptFileName({ name: ' ' }, 'lora')).toBe('concept-lora.safetensors');
    expect(conceptFileName({ name: 'Kätzchen' }, 'embedding')).toBe('Kätzchen.safetensors');
  });
});
