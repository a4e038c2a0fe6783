/**
 * A pool of storage buffers, bucketed by size class (powers of two from 256 B, then 1/8 steps above
 * 1 MiB, so a reuse wastes at most 12.5%). Released buffers are reused by later requests of the same
 * class and usage; `trim()` destroys what is idle. Every buffer is labelled for validation messages.
 */

/** Read lazily: GPUBufferUsage only exists once WebGPU is present (not in the unit tier). */
const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export function sizeClass(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  const pow = 2 ** Math.ceil(Math.log2(bytes));
  if (pow <= 1 << 20) return pow;
  const step = pow / 16; // 1/8 of the lower power of two
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly owned = new Set<GPUBuffer>();
  private liveBytes = 0;
  private peak = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number, label: string, usage: number = storageUsage()): GPUBuffer {
    const size = sizeClass(bytes);
    const key = `${usage}:${size}`;
    const reused = this.free.get(key)?.pop();
    const buffer = reused ?? this.device.createBuffer({ label, size, usage });
    if (reused) reused.label = label;
    else this.owned.add(buffer);
    this.liveBytes += size;
    this.peak = Math.max(this.peak, this.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.owned.has(buffer)) throw new Error(`buffer "${buffer.label}" does not belong to this pool`);
    const key = `${buffer.usage}:${buffer.size}`;
    const list = this.free.get(key) ?? [];
    if (list.includes(buffer)) throw new Error(`buffer "${buffer.label}" released twice`);
    list.push(buffer);
    this.free.set(key, list);
    this.liveBytes -= buffer.size;
  }

  /** Destroy every idle buffer. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.owned.delete(b);
        b.destroy();
      }
    }
    this.free.clear();
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.clear();
    this.free.clear();
    this.liveBytes = 0;
  }

  get stats(): { liveBytes: number; peakBytes: number; buffers: number } {
    return { liveBytes: this.liveBytes, peakBytes: this.peak, buffers: this.owned.size };
  }
}
