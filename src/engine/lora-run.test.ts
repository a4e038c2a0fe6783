import { describe, expect, it } from 'vitest';
import { loraRun, loraSetKey, UnknownLoraError } from './lora-run';
import type { GenerateParams } from './protocol';
import { checkLoraName, LoraNameError, nameFromFile, uniqueLoraName } from '../storage/loras/record';

const P: GenerateParams = {
  prompt: 'a <rex1> dog <lora:pix:0.8>, beach',
  negativePrompt: 'blur <lora:pix:-0.2>',
  width: 64, height: 64, steps: 2, guidanceScale: 5, scheduler: 'euler', seed: 1,
  loras: [
    { name: 'pix', id: 'l1', hash: 'aaaaaaaaaaaa', te: 1, unet: 1 },
    { name: 'other', id: 'l2', hash: 'bbbbbbbbbbbb', te: 1, unet: 1 },
  ],
};

describe('loraRun', () => {
  it('cuts the tags from every prompt, sums weights per name, keeps concept words', () => {
    const mask = new Float32Array(1);
    const r = loraRun({ ...P, loras: [P.loras![0]!], regions: [{ prompt: 'hat <lora:pix:0.5>', negativePrompt: '', mask }] });
    expect(r.params.prompt).toBe('a <rex1> dog , beach');
    expect(r.params.negativePrompt).toBe('blur ');
    expect(r.params.regions![0]!.prompt).toBe('hat ');
    expect(r.loras).toEqual([{ name: 'pix', id: 'l1', hash: 'aaaaaaaaaaaa', te: 1.1, unet: 1.1 }]);
    expect(r.regionNotices).toEqual(['region 1']);
  });

  it('applies untagged entries as given, drops zero weights, refuses an unknown name by name', () => {
    const r = loraRun({ ...P, prompt: 'x <lora:pix:0>', negativePrompt: '' });
    expect(r.loras.map((l) => l.name)).toEqual(['other']);
    expect(() => loraRun({ ...P, prompt: '<lora:missing:1>' })).toThrow(UnknownLoraError);
    expect(() => loraRun({ ...P, prompt: '<lora:missing:1>' })).toThrow(/"missing".*imported: pix, other/);
    expect(loraRun({ ...P, prompt: 'plain', negativePrompt: '', loras: [] })).toMatchObject({ loras: [], params: { prompt: 'plain' } });
  });

  it('keys a set by files and weights', () => {
    const a = loraRun(P).loras;
    expect(loraSetKey(a)).toBe(loraSetKey(loraRun({ ...P }).loras));
    expect(loraSetKey(a)).not.toBe(loraSetKey(loraRun({ ...P, prompt: '<lora:pix:0.9>' }).loras));
  });
});

describe('LoRA names', () => {
  it('comes from the file name, unique, and refuses separators or a taken name', () => {
    expect(nameFromFile('pixel:art,v2.safetensors')).toBe('pixel_art_v2');
    expect(uniqueLoraName('a', [{ name: 'a' }, { name: 'a (2)' }])).toBe('a (3)');
    expect(() => checkLoraName('a:b', [])).toThrow(LoraNameError);
    expect(() => checkLoraName('a', [{ id: 'x', name: 'a' }])).toThrow(/already used/);
    expect(() => checkLoraName('a', [{ id: 'x', name: 'a' }], 'x')).not.toThrow();
  });
});
