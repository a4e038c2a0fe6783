import { describe, expect, it } from 'vitest';
import { packUniforms, reflectUniformStruct } from './uniforms';

describe('uniform layout reflected from WGSL', () => {
  const wgsl = `
    struct Params {
      m: u32,   // rows
      n: u32,
      alpha: f32,
      offs: vec2<u32>,
      color: vec4<f32>,
      k: i32,
    }`;

  it('follows the WGSL alignment rules', () => {
    const layout = reflectUniformStruct(wgsl, 'Params');
    expect(layout.fields.map((f) => [f.name, f.offset])).toEqual([
      ['m', 0], ['n', 4], ['alpha', 8], ['offs', 16], ['color', 32], ['k', 48],
    ]);
    expect(layout.size).toBe(64);
  });

  it('packs values by name and rejects unknown, missing and out-of-range fields', () => {
    const layout = reflectUniformStruct(wgsl, 'Params');
    const buf = packUniforms(layout, { m: 3, n: 7, alpha: 0.5, offs: [1, 2], color: [1, 2, 3, 4], k: -5 });
    const v = new DataView(buf);
    expect(v.getUint32(0, true)).toBe(3);
    expect(v.getFloat32(8, true)).toBe(0.5);
    expect(v.getUint32(20, true)).toBe(2);
    expect(v.getFloat32(44, true)).toBe(4);
    expect(v.getInt32(48, true)).toBe(-5);
    expect(() => packUniforms(layout, { m: 1 })).toThrow(/was not given/);
    expect(() => packUniforms(layout, { m: 1, n: 1, alpha: 1, offs: [1, 2], color: [1, 2, 3, 4], k: 0, z: 1 })).toThrow(/not a field/);
    expect(() => packUniforms(layout, { m: -1, n: 1, alpha: 1, offs: [1, 2], color: [1, 2, 3, 4], k: 0 })).toThrow(/not a u32/);
  });

  it('pads a small struct to 16 bytes', () => {
    expect(reflectUniformStruct('struct Params { count: u32, value: f32, }', 'Params').size).toBe(16);
  });
});
