/**
 * Bind groups reused across dispatches (issue 15 point 2): a sampling step makes the same ~1700
 * dispatches every step, on the same pooled buffers (the pool hands them out in the same order) and
 * the same uniform-arena slots, so most of its bind groups are ones the previous step already made.
 * createBindGroup is not free in a browser (a validated call into the GPU process), so a bind group is
 * looked up by what it binds: the pipeline and each binding's buffer, offset and size. Buffers are
 * keyed by identity (a buffer made later gets a new number, so a destroyed buffer's bind group can
 * never be hit by its successor); the oldest entries are dropped past a bound.
 */
import type { CompiledKernel } from './pipeline-cache';

const MAX_ENTRIES = 16384;

export class BindGroupCache {
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly groups = new Map<string, GPUBindGroup>();
  hits = 0;
  misses = 0;

  constructor(private readonly device: GPUDevice) {}

  private id(o: object): number {
    let v = this.ids.get(o);
    if (v === undefined) {
      v = this.nextId++;
      this.ids.set(o, v);
    }
    return v;
  }

  /** The bind group of `kernel` over these buffer bindings (binding i + 0..n in order), made once. */
  get(kernel: CompiledKernel, bindings: readonly GPUBufferBinding[]): GPUBindGroup {
    let key = String(this.id(kernel));
    for (const b of bindings) key += `|${this.id(b.buffer)}:${b.offset ?? 0}:${b.size ?? -1}`;
    const have = this.groups.get(key);
    if (have) {
      this.hits++;
      return have;
    }
    this.misses++;
    const group = this.device.createBindGroup({
      label: kernel.name,
      layout: kernel.pipeline.getBindGroupLayout(0),
      entries: bindings.map((resource, binding) => ({ binding, resource })),
    });
    if (this.groups.size >= MAX_ENTRIES) this.groups.delete(this.groups.keys().next().value!);
    this.groups.set(key, group);
    return group;
  }

  clear(): void {
    this.groups.clear();
  }
}
