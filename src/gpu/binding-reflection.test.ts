import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reflectBindings, takesDynamicUniform } from './binding-reflection';

const shader = (name: string) => readFileSync(join(__dirname, '../../shaders', name), 'utf8');

describe('binding reflection from WGSL declarations', () => {
  it('reads each group-0 buffer binding and its access, whatever the spacing', () => {
    const code = `
      @group(0) @binding(0) var<uniform> p: Params;
      @group(0)  @binding(1) var< storage , read > a: array<f32>;
      @group(0) @binding(2) var<storage, read_write> out: array<f32>;
      @group(0) @binding(3) var<storage,read> b: array<u32>;`;
    expect(reflectBindings(code)).toEqual([
      { binding: 0, kind: 'uniform' },
      { binding: 1, kind: 'read-only-storage' },
      { binding: 2, kind: 'storage' },
      { binding: 3, kind: 'read-only-storage' },
    ]);
  });

  it('a real kernel: the uniform at 0, then its storage buffers', () => {
    const b = reflectBindings(shader('sampler_step.wgsl'));
    expect(b[0]).toEqual({ binding: 0, kind: 'uniform' });
    expect(b.slice(1).every((x) => x.kind !== 'uniform')).toBe(true);
    expect(b.map((x) => x.binding)).toEqual([...b.keys()]);
  });

  it('a dynamic uniform offset only for one entry point with its uniform at binding 0', () => {
    const one = '@group(0) @binding(0) var<uniform> p: Params;\n@compute @workgroup_size(64) fn main() {}';
    expect(takesDynamicUniform(one)).toBe(true);
    expect(takesDynamicUniform(`${one}\n@compute @workgroup_size(64) fn other() {}`)).toBe(false);
    expect(takesDynamicUniform('@group(0) @binding(0) var<storage, read> a: array<f32>;\n@compute @workgroup_size(1) fn main() {}')).toBe(false);
  });
});
