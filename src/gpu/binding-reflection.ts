/**
 * A kernel's bindings read off its WGSL declarations (DESIGN: the WGSL source is the one source of
 * truth, as uniforms.ts does for uniform structs): every kernel binds its Params uniform at 0 and
 * storage buffers at 1..n (kernel.ts), so the declarations give the same layout 'auto' would.
 */

export type BindingKind = 'uniform' | 'storage' | 'read-only-storage';

export interface ReflectedBinding {
  binding: number;
  kind: BindingKind;
}

const BINDING = /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage\s*,\s*read_write|storage\s*,\s*read)\s*>/g;

/** The group-0 buffer bindings declared in `code`, in source order. */
export function reflectBindings(code: string): ReflectedBinding[] {
  return [...code.matchAll(BINDING)].map((m) => {
    const kind = m[2]!.replace(/\s+/g, '');
    return { binding: Number(m[1]), kind: kind === 'uniform' ? 'uniform' : kind === 'storage,read' ? 'read-only-storage' : 'storage' };
  });
}

/**
 * True when the file has one entry point and a uniform at binding 0: then its bindings are exactly the
 * declared ones and the layout can be written out with a dynamic uniform offset. A file with several
 * entry points keeps 'auto' (each entry point uses a subset of the declarations).
 */
export function takesDynamicUniform(code: string): boolean {
  return (code.match(/@compute/g) ?? []).length === 1 && /@binding\(0\)\s*var<uniform>/.test(code);
}
