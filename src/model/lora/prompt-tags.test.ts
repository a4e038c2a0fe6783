import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatLoraTag, isValidLoraName, LoraTagSyntaxError, mergeLoraTags, parseLoraTags } from './prompt-tags';
import { Sha256, sha256Of } from './sha256';
import { a1111LoraHash, a1111ModelHash, addnetHash } from './a1111-hashes';

describe('<lora:…> tags (A1111 syntax)', () => {
  it('cuts tags out and leaves the rest of the prompt exactly as A1111 re.sub does', () => {
    const r = parseLoraTags('a dog <lora:pixel art:0.8>, on a beach <lora:b>');
    expect(r.text).toBe('a dog , on a beach ');
    expect(r.tags).toEqual([
      { name: 'pixel art', te: 0.8, unet: 0.8 },
      { name: 'b', te: 1, unet: 1 },
    ]);
  });

  it('reads the UNet weight as the third field and te=/unet= named fields', () => {
    expect(parseLoraTags('<lora:x:0.5:1.25>').tags).toEqual([{ name: 'x', te: 0.5, unet: 1.25 }]);
    expect(parseLoraTags('<lora:x:unet=0.3:te=0.2>').tags).toEqual([{ name: 'x', te: 0.2, unet: 0.3 }]);
    expect(parseLoraTags('<lyco:y:-1>').tags).toEqual([{ name: 'y', te: -1, unet: -1 }]);
  });

  it('leaves concept words and other tags in the text', () => {
    const r = parseLoraTags('a photo of <rex1> dog <hypernet:h:1>');
    expect(r.tags).toEqual([]);
    expect(r.text).toBe('a photo of <rex1> dog <hypernet:h:1>');
  });

  it('refuses a tag without a name or with a weight that is not a number, by name', () => {
    expect(() => parseLoraTags('<lora::0.5>')).toThrow(LoraTagSyntaxError);
    expect(() => parseLoraTags('<lora:x:abc>')).toThrow(/not a number/);
    expect(() => parseLoraTags('<lora:x:>')).toThrow(LoraTagSyntaxError);
  });

  it('merges a name written twice (or in several prompts) into summed weights', () => {
    expect(mergeLoraTags(['<lora:a:0.5> x <lora:b:1>', 'y <lora:a:0.25>'])).toEqual([
      { name: 'a', te: 0.75, unet: 0.75 },
      { name: 'b', te: 1, unet: 1 },
    ]);
  });

  it('formats what the picker inserts, which parses back', () => {
    expect(formatLoraTag('my style', 0.7000001)).toBe('<lora:my style:0.7>');
    expect(parseLoraTags(formatLoraTag('s', 1.5)).tags[0]).toEqual({ name: 's', te: 1.5, unet: 1.5 });
    expect(isValidLoraName('my style')).toBe(true);
    for (const bad of ['', ' x', 'a:b', 'a,b', 'a>b']) expect(isValidLoraName(bad)).toBe(false);
  });
});

describe('SHA-256 and A1111 short hashes', () => {
  const mem = (b: Uint8Array) => ({ size: b.length, read: async (o: number, n: number) => b.slice(o, o + n) });

  it('equals node:crypto on lengths around the block and padding edges, fed in odd pieces', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70001]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);
      const h = new Sha256();
      for (let i = 0; i < n; i += 37) h.update(b.subarray(i, i + 37));
      expect(h.hex(), `n=${n}`).toBe(createHash('sha256').update(b).digest('hex'));
    }
  });

  it('Model hash = first 10 hex of the whole file; Lora hash = first 12 of the data after the header', async () => {
    const file = readFileSync(new URL('../../../golden/lora/lora_kohya.safetensors', import.meta.url));
    const bytes = new Uint8Array(file);
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const full = createHash('sha256').update(bytes).digest('hex');
    const data = createHash('sha256').update(bytes.subarray(8 + n)).digest('hex');
    expect(await sha256Of(mem(bytes), 0, 1000)).toBe(full);
    expect(await a1111ModelHash(mem(bytes))).toBe(full.slice(0, 10));
    expect(await addnetHash(mem(bytes))).toBe(data);
    expect(await a1111LoraHash(mem(bytes))).toBe(data.slice(0, 12));
    // kohya's precomputed hash in the metadata is taken as A1111 takes it
    expect(await a1111LoraHash(mem(bytes), { sshs_model_hash: 'ABCDEF0123456789' })).toBe('abcdef012345');
  });
});
