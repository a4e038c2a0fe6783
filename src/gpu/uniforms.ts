/**
 * Uniform layouts come from the WGSL source itself (DESIGN: "WGSL structs are the one source of
 * uniform layouts"): the struct is parsed and laid out by the WGSL alignment rules, and values are
 * packed by field name. No hand-counted byte offsets anywhere.
 */

type Scalar = 'u32' | 'i32' | 'f32';

export interface UniformField {
  name: string;
  scalar: Scalar;
  /** 1 for a scalar, else the vector width. */
  width: 1 | 2 | 3 | 4;
  offset: number;
}

export interface UniformLayout {
  struct: string;
  fields: UniformField[];
  /** Struct size rounded up to its alignment and to 16 bytes (uniform buffers). */
  size: number;
}

export type UniformValues = Record<string, number | readonly number[]>;

const ALIGN = { 1: 4, 2: 8, 3: 16, 4: 16 } as const;

function parseType(type: string, where: string): { scalar: Scalar; width: 1 | 2 | 3 | 4 } {
  const scalar = /^(u32|i32|f32)$/.exec(type);
  if (scalar) return { scalar: scalar[1] as Scalar, width: 1 };
  const vec = /^vec([234])<(u32|i32|f32)>$/.exec(type) ?? /^vec([234])([uif])$/.exec(type);
  if (vec) {
    const s = vec[2]!;
    const scalarName = (s.length === 1 ? ({ u: 'u32', i: 'i32', f: 'f32' } as const)[s as 'u' | 'i' | 'f'] : s) as Scalar;
    return { scalar: scalarName, width: Number(vec[1]) as 2 | 3 | 4 };
  }
  throw new Error(`${where}: uniform field type "${type}" is not supported (use u32/i32/f32 or vecN of them)`);
}

export function reflectUniformStruct(wgsl: string, struct: string): UniformLayout {
  const m = new RegExp(`struct\\s+${struct}\\s*\\{([^}]*)\\}`).exec(wgsl);
  if (!m) throw new Error(`struct ${struct} not found in the shader`);
  const body = m[1]!.replace(/\/\/.*$/gm, '');
  const fields: UniformField[] = [];
  let offset = 0;
  let maxAlign = 4;
  for (const part of body.split(',')) {
    const decl = part.trim();
    if (!decl) continue;
    const fm = /^(?:@\w+(?:\([^)]*\))?\s*)*([A-Za-z_]\w*)\s*:\s*([\w<>]+)$/.exec(decl);
    if (!fm) throw new Error(`struct ${struct}: cannot parse field "${decl}"`);
    const { scalar, width } = parseType(fm[2]!, `struct ${struct}.${fm[1]}`);
    const align = ALIGN[width];
    maxAlign = Math.max(maxAlign, align);
    offset = Math.ceil(offset / align) * align;
    fields.push({ name: fm[1]!, scalar, width, offset });
    offset += 4 * width;
  }
  const size = Math.max(16, Math.ceil(offset / Math.max(maxAlign, 16)) * Math.max(maxAlign, 16));
  return { struct, fields, size };
}

export function packUniforms(layout: UniformLayout, values: UniformValues): ArrayBuffer {
  const buf = new ArrayBuffer(layout.size);
  const view = new DataView(buf);
  const known = new Set(layout.fields.map((f) => f.name));
  for (const key of Object.keys(values)) {
    if (!known.has(key)) throw new Error(`uniform "${key}" is not a field of struct ${layout.struct}`);
  }
  for (const f of layout.fields) {
    const v = values[f.name];
    if (v === undefined) throw new Error(`uniform "${f.name}" of struct ${layout.struct} was not given`);
    const list = typeof v === 'number' ? [v] : v;
    if (list.length !== f.width) throw new Error(`uniform "${f.name}" needs ${f.width} values, got ${list.length}`);
    list.forEach((x, i) => {
      const at = f.offset + 4 * i;
      if (f.scalar === 'f32') view.setFloat32(at, x, true);
      else if (f.scalar === 'i32') view.setInt32(at, x, true);
      else {
        if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RangeError(`uniform "${f.name}" = ${x} is not a u32`);
        view.setUint32(at, x, true);
      }
    });
  }
  return buf;
}
