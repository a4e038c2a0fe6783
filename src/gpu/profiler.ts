/**
 * GPU timestamp profiling where the device offers `timestamp-query`: each timed dispatch runs in its
 * own compute pass with begin/end timestamps; `collect()` reads them back as per-kernel durations.
 * Without the feature the profiler is absent and callers fall back to wall-clock timing.
 */

const MAX_QUERIES = 4096;

export interface KernelTiming {
  kernel: string;
  ms: number;
}

export class TimestampProfiler {
  enabled = false;
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly readBuffer: GPUBuffer;
  private labels: string[] = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ label: 'profiler', type: 'timestamp', count: MAX_QUERIES });
    this.resolveBuffer = device.createBuffer({
      label: 'profiler-resolve',
      size: MAX_QUERIES * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readBuffer = device.createBuffer({
      label: 'profiler-read',
      size: MAX_QUERIES * 8,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Timestamp writes for the next pass, or undefined when the query set is full. */
  passTimestamps(kernel: string): GPUComputePassTimestampWrites | undefined {
    const index = this.labels.length * 2;
    if (index + 2 > MAX_QUERIES) return undefined;
    this.labels.push(kernel);
    return { querySet: this.querySet, beginningOfPassWriteIndex: index, endOfPassWriteIndex: index + 1 };
  }

  /** Reads all timestamps recorded since the last collect (the recorder must have submitted). */
  async collect(): Promise<KernelTiming[]> {
    const count = this.labels.length * 2;
    if (count === 0) return [];
    // Resolved here, once, from query 0: the query set keeps its values across submissions, and
    // resolveQuerySet's destination offset must be a multiple of 256, which a per-submission resolve
    // at query index × 8 is not.
    const encoder = this.device.createCommandEncoder({ label: 'profiler-copy' });
    encoder.resolveQuerySet(this.querySet, 0, count, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, this.readBuffer, 0, count * 8);
    this.device.queue.submit([encoder.finish()]);
    await this.readBuffer.mapAsync(GPUMapMode.READ, 0, count * 8);
    const ticks = new BigInt64Array(this.readBuffer.getMappedRange(0, count * 8).slice(0));
    this.readBuffer.unmap();
    const out = this.labels.map((kernel, i) => ({
      kernel,
      ms: Number(ticks[2 * i + 1]! - ticks[2 * i]!) / 1e6,
    }));
    this.labels = [];
    return out;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    this.readBuffer.destroy();
  }
}
