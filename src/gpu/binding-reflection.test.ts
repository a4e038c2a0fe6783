import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reflectBindings, takesDynamicUniform } from './binding-reflection';

const shader = (name: string) => readFileSync(join(__dirname, '../../shaders', name), 'utf8');
const fixture = (name: string) => readFileSync(join(__dirname, '../../tests/fixtures/wgsl', name), 'utf8');

describe('binding reflection from WGSL declarations', () => {
  it('reads each group-0 buffer binding and its access, whatever the spacing', () => {
    expect(reflectBindings(fixture('bindings-spacing.wgsl'))).toEqual([
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
    expect(takesDynamicUniform(fixture('bindings-spacing.wgsl'))).toBe(true);
    expect(takesDynamicUniform(fixture('two-entry-points.wgsl'))).toBe(false);
    expect(takesDynamicUniform(fixture('no-uniform.wgsl'))).toBe(false);
  });
});
