import { describe, expect, it } from 'vitest';
import { ConceptRecordError } from './errors';
import { makeConcept, sameBits, sameConcept } from './fixtures.test-util';
import {
  compareConcepts,
  consolidatedAgainst,
  decodeConceptRecord,
  encodeConceptRecord,
  matchesConceptQuery,
  nextTaskIndex,
  packConceptTensors,
  summarizeConcept,
  unpackConceptTensors,
  upgradeConceptRecord,
  conceptMeta,
  type ConceptMeta,
} from './record';

describe('packed concept tensors', () => {
  it('pack every token table and LoRA pair into one f32 buffer and unpack them bit for bit, in order', () => {
    const c = makeConcept();
    const p = packConceptTensors(c);
    // 28 cross-attention layers in the golden UNet, 4 linears each, down + up; 2 token tables.
    expect(c.layers).toBe(28);
    expect(p.index).toHaveLength(2 + 28 * 4 * 2);
    expect(p.index.slice(0, 3).map((e) => e.name)).toEqual(['token_embeds_1', 'token_embeds_2', 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_q.lora_down.weight']);
    expect(p.index[0]!.shape).toEqual([28, 2, 768]);
    const total = p.index.reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
    expect(p.data.byteLength).toBe(total * 4);
    const u = unpackConceptTensors(p, conceptMeta(c));
    u.tokens.forEach((t, k) => expect(sameBits(t, c.tokens[k]!)).toBe(true));
    expect([...u.lora.keys()]).toEqual([...c.lora.keys()]);
    for (const [m, l] of c.lora) {
      const v = u.lora.get(m)!;
      expect(sameBits(v.down, l.down) && sameBits(v.up, l.up)).toBe(true);
      expect([v.inFeatures, v.outFeatures]).toEqual([l.inFeatures, l.outFeatures]);
      expect(v.down.buffer).toBe(p.data); // views, not copies
    }
  });

  it('refuse tensors that do not fit the metadata', () => {
    const c = makeConcept();
    expect(() => packConceptTensors({ ...c, tokens: [c.tokens[0]!] })).toThrow(RangeError);
    expect(() => packConceptTensors({ ...c, placeholders: ['<a>'] })).toThrow(/token_embeds_1/);
    const lora = new Map(c.lora);
    const [m, l] = [...lora][0]!;
    lora.set(m, { ...l, inFeatures: l.inFeatures + 1 });
    expect(() => packConceptTensors({ ...c, lora })).toThrow(/lora_down/);
  });

  it('report damaged packed data as ConceptRecordError', () => {
    const c = makeConcept();
    const meta = conceptMeta(c);
    const p = packConceptTensors(c);
    expect(() => unpackConceptTensors({ ...p, data: p.data.slice(0, p.data.byteLength - 4) }, meta)).toThrow(ConceptRecordError);
    expect(() => unpackConceptTensors({ ...p, index: p.index.slice(1) }, meta)).toThrow(/token_embeds_1 is missing/);
    expect(() => unpackConceptTensors({ ...p, index: p.index.filter((e) => !e.name.endsWith('attn2.to_q.lora_up.weight')) }, meta)).toThrow(/lora_up.weight is missing/);
    expect(() => unpackConceptTensors({ ...p, index: [...p.index, { name: 'stray', offset: 0, shape: [1] }] }, meta)).toThrow(/stray belongs to no/);
    expect(() => unpackConceptTensors(p, { ...meta, rank: 3 })).toThrow(/not a rank-3 pair/);
  });
});

describe('concept records', () => {
  it('encode a concept with its media into one v1 record and decode it back exactly', async () => {
    const c = makeConcept();
    const thumb = new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' });
    const sample = { image: new Blob([new Uint8Array([1, 2])], { type: 'image/webp' }), prompt: 'a <dog1> <dog2> dog on a beach', seed: 7 };
    const r = encodeConceptRecord({ ...c, thumbnails: [thumb], samples: [sample], lossCurve: [0.2, 0.15, 0.11] });
    expect(r.v).toBe(1);
    expect(r.tensors).toBeInstanceOf(Blob);
    expect(Object.keys(r).sort()).toEqual(
      ['v', 'id', 'name', 'classWord', 'placeholders', 'taskIndex', 'layers', 'rank', 'tokenWidths', 'hyper', 'modelId', 'createdAt', 'thumbnails', 'samples', 'lossCurve', 'tensorIndex', 'tensors'].sort(),
    );
    expect(upgradeConceptRecord(r)).toBe(r);
    const d = await decodeConceptRecord(r);
    const { thumbnails, samples, lossCurve, ...concept } = d;
    expect(sameConcept(concept, c)).toBe(true);
    expect(Object.keys(concept).sort()).toEqual(Object.keys(c).sort());
    expect({ thumbnails, samples, lossCurve }).toEqual({ thumbnails: [thumb], samples: [sample], lossCurve: [0.2, 0.15, 0.11] });
    const s = summarizeConcept(r);
    expect(s.tensorBytes).toBe(r.tensors.size);
    expect('tokens' in s || 'lora' in s).toBe(false);
    // Media default to empty.
    const bare = await decodeConceptRecord(encodeConceptRecord(c));
    expect([bare.thumbnails, bare.samples, bare.lossCurve]).toEqual([[], [], []]);
  });

  it('refuse records of a newer studio, without an id, or missing fields', () => {
    const r = encodeConceptRecord(makeConcept());
    expect(() => upgradeConceptRecord({ ...r, v: 2 })).toThrow(/schema version 2/);
    expect(() => upgradeConceptRecord({ ...r, id: undefined })).toThrow(ConceptRecordError);
    expect(() => upgradeConceptRecord(null)).toThrow(ConceptRecordError);
    expect(() => upgradeConceptRecord({ ...r, tensors: new ArrayBuffer(8) })).toThrow(/missing fields/);
    expect(() => upgradeConceptRecord({ ...r, hyper: { ...r.hyper, r1Form: 'other' } })).toThrow(/missing fields/);
  });
});

describe('library views', () => {
  const meta = (id: string, taskIndex: number, modelId = 'sdxl', createdAt = 0): ConceptMeta => ({ ...conceptMeta(makeConcept({ id, taskIndex })), modelId, createdAt, name: `concept ${id}` });
  const all = [meta('c', 3), meta('a', 1), meta('b', 2), meta('x', 2, 'sd15'), meta('d', 3, 'sdxl', -1)];

  it('sort by task index, then creation time', () => {
    expect([...all].sort(compareConcepts).map((c) => c.id)).toEqual(['a', 'b', 'x', 'd', 'c']);
  });

  it('name the later concepts on the same model that were consolidated against a concept', () => {
    expect(consolidatedAgainst(all[2]!, all).map((c) => c.id)).toEqual(['d', 'c']);
    expect(consolidatedAgainst(all[1]!, all).map((c) => c.id)).toEqual(['b', 'd', 'c']);
    expect(consolidatedAgainst(all[0]!, all)).toEqual([]);
    expect(consolidatedAgainst(all[3]!, all)).toEqual([]);
    expect(nextTaskIndex(all, 'sdxl')).toBe(4);
    expect(nextTaskIndex(all, 'sd15')).toBe(3);
    expect(nextTaskIndex(all, 'other')).toBe(1);
  });

  it('search by name, class word and placeholder, case-insensitively, every term', () => {
    const c = { name: 'Rex the Dog', classWord: 'dog', placeholders: ['<rex1>', '<rex2>'] };
    expect(matchesConceptQuery(c, '')).toBe(true);
    expect(matchesConceptQuery(c, 'REX')).toBe(true);
    expect(matchesConceptQuery(c, 'rex2')).toBe(true);
    expect(matchesConceptQuery(c, '<rex1>')).toBe(true);
    expect(matchesConceptQuery(c, 'dog rex')).toBe(true);
    expect(matchesConceptQuery(c, 'dog cat')).toBe(false);
  });
});
