import { describe, expect, it } from 'vitest';
import { packBits, PackBitsError, unpackBits } from './packbits';
import { decodeScene, encodeScene, SceneRecordError, upgradeSceneRecord, type SceneData, type SceneRecordV1 } from './record';

describe('packbits', () => {
  it('round-trips runs, literals and their boundaries exactly', () => {
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const cases = [
      new Uint8Array(0),
      Uint8Array.from([7]),
      Uint8Array.from([1, 1]),
      new Uint8Array(1000),
      new Uint8Array(129).fill(255),
      new Uint8Array(130).fill(255),
      Uint8Array.from({ length: 300 }, (_, i) => i % 256),
      Uint8Array.from({ length: 5000 }, () => (rnd() < 0.5 ? 0 : rnd() < 0.5 ? 255 : Math.floor(rnd() * 256))),
      Uint8Array.from({ length: 777 }, (_, i) => (i % 9 < 2 ? 5 : i % 7)),
    ];
    for (const c of cases) expect(unpackBits(packBits(c), c.length)).toEqual(c);
    // An empty 1024² layer is tiny; random bytes grow by at most 1/128.
    expect(packBits(new Uint8Array(1 << 20)).length).toBeLessThan(20_000);
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + (i >> 3)) % 251);
    expect(packBits(noise).length).toBeLessThanOrEqual(4096 + 32 + 1);
  });
  it('refuses damaged data', () => {
    expect(() => unpackBits(packBits(new Uint8Array(10)), 11)).toThrow(PackBitsError);
    expect(() => unpackBits(Uint8Array.from([5, 1, 2]), 6)).toThrow(PackBitsError);
  });
});

const layer = (id: string, mask: Uint8Array) => ({ id, name: id, color: '#ff6b6b', prompt: `p ${id}`, negativePrompt: `n ${id}`, concepts: [], visible: id !== 'b', opacity: 0.4, mask });

describe('scene records', () => {
  it('encode/decode round-trips a scene with exact mask bytes', () => {
    const s: SceneData = {
      id: 'scene-1', name: 'Two', width: 64, height: 32, maskWidth: 64, maskHeight: 32, globalPrompt: 'g', globalNegative: 'gn',
      layers: [layer('a', Uint8Array.from({ length: 2048 }, (_, i) => (i % 64 < 20 ? 255 : i % 5))), layer('b', new Uint8Array(2048))],
      referenceImageId: 'img-1', createdAt: 1, updatedAt: 2,
      run: { steps: 2, scheduler: 'euler', guidanceScale: 6, regionAlpha: 0.1, seed: 9, seedLocked: false },
    };
    const r = encodeScene(s);
    expect(r.v).toBe(2);
    expect(r.layers[1]!.mask.length).toBeLessThan(40);
    expect(decodeScene(upgradeSceneRecord(structuredClone(r)))).toEqual(s);
  });
  it('upgrade a v1 record to the current schema without losing a field', () => {
    const mask = Uint8Array.from({ length: 16 * 8 }, (_, i) => (i % 16 < 4 ? 255 : 0));
    const v1: SceneRecordV1 = { v: 1, id: 'scene-old', name: 'Old', width: 16, height: 8, prompt: 'a park', createdAt: 5, regions: [{ name: 'Dog', color: '#38d5f2', prompt: 'a dog', mask }] };
    const r = upgradeSceneRecord(v1);
    expect(r.v).toBe(2);
    expect(upgradeSceneRecord(r)).toBe(r);
    expect(decodeScene(r)).toEqual({
      id: 'scene-old', name: 'Old', width: 16, height: 8, maskWidth: 16, maskHeight: 8, globalPrompt: 'a park', globalNegative: '', createdAt: 5, updatedAt: 5,
      layers: [{ id: 'scene-old-layer-0', name: 'Dog', color: '#38d5f2', prompt: 'a dog', negativePrompt: '', concepts: [], visible: true, opacity: 0.55, mask }],
    });
  });
  it('refuse records of a newer studio, without an id, or with a damaged mask', () => {
    expect(() => upgradeSceneRecord({ v: 99, id: 'x' })).toThrow(SceneRecordError);
    expect(() => upgradeSceneRecord({ v: 2 })).toThrow(SceneRecordError);
    expect(() => upgradeSceneRecord(null)).toThrow(SceneRecordError);
    const bad: SceneRecordV1 = { v: 1, id: 'b', name: 'b', width: 8, height: 8, prompt: '', createdAt: 0, regions: [{ name: 'r', color: '#000000', prompt: '', mask: new Uint8Array(3) }] };
    expect(() => upgradeSceneRecord(bad)).toThrow(SceneRecordError);
    const r = encodeScene({ id: 'c', name: 'c', width: 8, height: 8, maskWidth: 8, maskHeight: 8, globalPrompt: '', globalNegative: '', layers: [layer('a', new Uint8Array(64))], createdAt: 0, updatedAt: 0 });
    expect(() => decodeScene({ ...r, maskWidth: 9 })).toThrow(SceneRecordError);
  });
});
