import { describe, expect, it } from 'vitest';
import { createScene, editSize } from './scene';
import { addLayer, maskAction, newDoc, setMask, updateLayer } from './doc';
import { fillRectMask } from './raster';
import { fnv1a, maskStats, sceneGenerationInput, sceneToRegions } from './regions';

describe('scene model', () => {
  it('edits at the output size up to 1024 on the long side, at half size above', () => {
    expect(editSize(1024, 1024)).toEqual({ width: 1024, height: 1024 });
    expect(editSize(832, 1216)).toEqual({ width: 416, height: 608 });
    expect(editSize(2048, 1536)).toEqual({ width: 1024, height: 768 });
    expect(editSize(64, 72)).toEqual({ width: 64, height: 72 });
    expect(() => createScene(100, 64)).toThrow(RangeError);
  });
});

describe('sceneToRegions', () => {
  it('gives visible, non-empty layers in order, with masks at the output size in 0..1', () => {
    const s0 = createScene(64, 48, { id: 's', layerId: 'a' });
    let d = newDoc(s0);
    d = addLayer(d, undefined, { id: 'b', prompt: 'a cat', negativePrompt: 'dog' }).doc;
    d = addLayer(d, undefined, { id: 'c', prompt: 'hidden' }).doc;
    d = addLayer(d, undefined, { id: 'e', prompt: 'empty' }).doc;
    d = setMask(d, 'b', fillRectMask(d.scene.layers[1]!.mask, 64, 48, { x0: 0, y0: 0, x1: 10, y1: 48 }, 'paint'), 'r');
    d = maskAction(d, 'c', 'fill');
    d = updateLayer(d, 'c', { visible: false });
    d = maskAction(d, 'a', 'fill');
    d = updateLayer(d, 'a', { prompt: 'grass' });
    const regions = sceneToRegions(d.scene);
    expect(regions.map((r) => r.prompt)).toEqual(['grass', 'a cat']);
    const cat = regions[1]!;
    expect(cat.negativePrompt).toBe('dog');
    expect(cat.mask).toBeInstanceOf(Float32Array);
    expect(cat.mask.length).toBe(64 * 48);
    expect(cat.mask[5 * 64 + 9]).toBe(1);
    expect(cat.mask[5 * 64 + 10]).toBe(0);
    const input = sceneGenerationInput({ ...d.scene, globalPrompt: 'a garden', globalNegative: 'ugly' });
    expect(input).toMatchObject({ width: 64, height: 48, prompt: 'a garden', negativePrompt: 'ugly' });
    expect(input.regions.length).toBe(2);
  });
  it('upsamples a half-resolution editing mask to the output size', () => {
    let d = newDoc(createScene(2048, 1024, { layerId: 'a' }));
    expect(d.scene.maskWidth).toBe(1024);
    d = setMask(d, 'a', fillRectMask(d.scene.layers[0]!.mask, 1024, 512, { x0: 0, y0: 0, x1: 512, y1: 512 }, 'paint'), 'r');
    const [r] = sceneToRegions(d.scene);
    expect(r!.mask.length).toBe(2048 * 1024);
    expect(r!.mask[100 * 2048 + 1000]).toBe(1);
    expect(r!.mask[100 * 2048 + 1100]).toBe(0);
    // On the edge the bilinear weights give a soft step between two output pixels.
    expect(r!.mask[100 * 2048 + 1023]).toBeCloseTo(0.75, 6);
    expect(r!.mask[100 * 2048 + 1024]).toBeCloseTo(0.25, 6);
  });
});

describe('mask checksums', () => {
  it('FNV-1a matches the reference vectors and stats are per buffer', () => {
    expect(fnv1a(new Uint8Array())).toBe('811c9dc5');
    expect(fnv1a(new TextEncoder().encode('a'))).toBe('e40c292c');
    expect(fnv1a(new TextEncoder().encode('foobar'))).toBe('bf9cf968');
    const m = Uint8Array.from([0, 3, 0, 255]);
    expect(maskStats(m)).toEqual({ checksum: fnv1a(m), coverage: 2 });
  });
});
