/**
 * A kernel descriptor: a name, its WGSL source (with #if/#param directives), and the structural
 * parameters that pick a variant (dtype, fused epilogue, transposes, tile sizes). Shapes never go here:
 * they are uniforms, so one compiled pipeline serves every shape (DESIGN, "Conventions").
 *
 * Binding convention of every kernel: `@group(0) @binding(0) var<uniform> params: Params;` and the
 * storage buffers at bindings 1..n in the order the op passes them.
 */
import type { Defines } from './preprocess';

export interface KernelDescriptor<V> {
  /** Unique kernel name, used in every GPU label and in compile errors. */
  readonly name: string;
  /** Raw WGSL (before preprocessing). */
  readonly source: string;
  /** The preprocessor defines for a variant. */
  defines(variant: V): Defines;
  /** `override` constants for a variant (workgroup and tile sizes). */
  constants?(variant: V): Record<string, number>;
  readonly entryPoint?: string;
  /** Name of the uniform struct; default `Params`. */
  readonly uniformStruct?: string;
}

/** The cache key of a variant: name + defines + constants, in a stable order. */
export function variantKey<V>(desc: KernelDescriptor<V>, variant: V): string {
  const stable = (o: Record<string, unknown>) =>
    Object.keys(o)
      .sort()
      .map((k) => `${k}=${String(o[k])}`)
      .join(',');
  return `${desc.name}|${stable(desc.defines(variant))}|${stable(desc.constants?.(variant) ?? {})}`;
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}
