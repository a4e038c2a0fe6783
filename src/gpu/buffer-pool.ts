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
  /** Creation order of each buffer (takeOldest). */
  private readonly age = new Map<GPUBuffer, number>();
  private made = 0;
  private liveBytes = 0;
  private peak = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number, label: string, usage: number = storageUsage()): GPUBuffer {
    const size = sizeClass(bytes);
    const key = `${usage}:${size}`;
    const reused = this.takeOldest(this.free.get(key));
    const buffer = reused ?? this.device.createBuffer({ label, size, usage });
    if (reused) reused.label = label;
    else {
      this.owned.add(buffer);
      this.age.set(buffer, this.made++);
    }
    this.liveBytes += size;
    this.peak = Math.max(this.peak, this.liveBytes);
    return buffer;
  }

  /**
   * The idle buffer made first, not the last released: which buffer an op gets then depends only on
   * which are idle, not on the order earlier ops let them go, so every sampling step hands the same
   * buffers to the same ops and the recorder's bind groups from the step before are hits
   * (bind-group-cache.ts). A LIFO pool permutes them from step to step.
   */
  private takeOldest(list: GPUBuffer[] | undefined): GPUBuffer | undefined {
    if (!list?.length) return undefined;
    let best = 0;
    for (let i = 1; i < list.length; i++) if (this.age.get(list[i]!)! < this.age.get(list[best]!)!) best = i;
    const [b] = list.splice(best, 1);
    return b;
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
        this.age.delete(b);
        b.destroy();
      }
    }
    this.free.clear();
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.clear();
    this.age.clear();
    this.free.clear();
    this.liveBytes = 0;
  }

  get stats(): { liveBytes: number; peakBytes: number; buffers: number } {
    return { liveBytes: this.liveBytes, peakBytes: this.peak, buffers: this.owned.size };
  }
}
