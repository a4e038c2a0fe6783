/**
 * The GPU context every op runs in: the device, its buffer pool, pipeline cache, the open command
 * recorder (ops append dispatches; `flush()` submits them together) and the optional profiler.
 */
import { requestGpuDevice, type DeviceOptions, type GpuDeviceHandle } from './device';
import { BufferPool } from './buffer-pool';
import { PipelineCache } from './pipeline-cache';
import { Recorder, UniformArena, type DispatchArgs } from './recorder';
import type { BindGroupCache } from './bind-group-cache';
import { TimestampProfiler } from './profiler';
import { DeviceErrorWatch, namedDeviceError } from './device-errors';
import { FeatureMissingError } from './errors';
import { toF16Array, fromF16Array } from './f16';
import { byteSize, numel, type DType, type Tensor } from './tensor';
import type { KernelDescriptor } from './kernel';
import type { CompiledKernel } from './pipeline-cache';

export class GpuContext {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly profiler: TimestampProfiler | null;
  private readonly arena: UniformArena;
  private recorder: Recorder;
  /** Current lease of each pooled buffer handed out (see Tensor.lease). */
  private readonly leases = new Map<GPUBuffer, number>();
  private nextLease = 1;
  /**
   * Kernel choices measured on this adapter (ops/matmul-tuning.ts), by problem key; empty: each op's
   * built-in heuristic. Only choices that do not change the numbers (e.g. the matmul tile) are tuned.
   */
  readonly tuning = new Map<string, Readonly<Record<string, number>>>();
  /**
   * f16 arithmetic in the kernels that have such a variant (the tiled matmul: f16 tiles, f16 sums per
   * K tile, f32 across tiles), for f16 tensors on a device with shader-f16. Off by default: it changes
   * the numbers (within the f16 path's golden bounds); double-rate-f16 GPUs run it faster.
   */
  f16Math = false;
  /** Set while an autotune collects the problems a forward poses (kind, key, the op's own problem description). */
  onTunable: ((kind: string, key: string, problem: unknown) => void) | null = null;

  private subgroups: boolean;
  /** Errors the device reported outside any error scope (device-errors.ts), checked after each wait. */
  readonly deviceErrors: DeviceErrorWatch;
  /** Set by an out-of-memory error: the pool's idle buffers (some may be invalid) are dropped before the next allocation. */
  private trimBeforeAcquire = false;

  constructor(readonly handle: GpuDeviceHandle) {
    this.subgroups = handle.hasSubgroups;
    this.device = handle.device;
    this.deviceErrors = new DeviceErrorWatch(this.device);
    this.pool = new BufferPool(this.device);
    this.pipelines = new PipelineCache(this.device);
    this.profiler = handle.hasTimestamps ? new TimestampProfiler(this.device) : null;
    this.arena = new UniformArena(this.device, this.device.limits.minUniformBufferOffsetAlignment);
    this.recorder = new Recorder(this.device, this.arena, this.profiler);
  }

  static async create(gpu: GPU | undefined, options?: DeviceOptions): Promise<GpuContext> {
    return new GpuContext(await requestGpuDevice(gpu, options));
  }

  get hasF16(): boolean {
    return this.handle.hasF16;
  }

  /**
   * Whether kernels with a subgroup variant (ops/norm.ts) take it: by default where the device has the
   * `subgroups` feature. Setting it false selects the portable kernels (the tests run both on one
   * device); it cannot be turned on where the feature is missing.
   */
  get useSubgroups(): boolean {
    return this.subgroups;
  }

  set useSubgroups(on: boolean) {
    if (on && !this.handle.hasSubgroups) throw new FeatureMissingError('subgroups', 'subgroup kernels');
    this.subgroups = on;
  }

  /** Compiles (once) and returns a kernel variant. */
  kernel<V>(desc: KernelDescriptor<V>, variant: V): Promise<CompiledKernel> {
    return this.pipelines.get(desc, variant);
  }

  /** The recorder's bind groups, reused across steps (bind-group-cache.ts); hits/misses for tests and benches. */
  get bindGroupCache(): BindGroupCache {
    return this.recorder.bindGroups;
  }

  dispatch(kernel: CompiledKernel, args: DispatchArgs): void {
    this.recorder.dispatch(kernel, args);
  }

  copyTensor(src: Tensor, dst: Tensor): void {
    const bytes = byteSize(src.shape, src.dtype);
    this.recorder.copy(src.buffer, src.offset, dst.buffer, dst.offset, Math.ceil(bytes / 4) * 4);
  }

  /**
   * queue.writeBuffer runs before any command still being recorded, so writing into a pooled buffer
   * that a recorded (unsubmitted) dispatch still reads would clobber it. Submitting first keeps queue
   * order equal to program order; no wait is needed.
   */
  private submitPendingBeforeWrite(): void {
    if (this.recorder.pending) void this.recorder.submit();
  }

  /**
   * Submits everything recorded so far; resolves when the GPU has finished it, or rejects with the named
   * error (GpuOutOfMemoryError, GpuValidationError) of anything the device reported meanwhile.
   */
  async flush(): Promise<void> {
    await this.recorder.submit();
    this.throwIfDeviceError('the GPU work just submitted');
  }

  /**
   * Submits everything recorded so far and resolves when the GPU has finished it, leaving any device
   * error for the next flush or read: for submissions nobody awaits (short submissions, releasing
   * temporaries once the GPU is done), which must not swallow an error the caller's own wait reports.
   */
  submit(): Promise<void> {
    return this.recorder.submit();
  }

  /**
   * Throws the first error the device reported since the last check, named and placed at `scope`. After
   * running out of memory the pool is trimmed before it hands out a buffer again: buffers that failed
   * to allocate are invalid, and reusing one would fail every later run.
   */
  throwIfDeviceError(scope: string): void {
    const r = this.deviceErrors.take();
    if (!r) return;
    if (r.kind === 'out-of-memory') {
      this.pool.trim();
      this.trimBeforeAcquire = true;
    }
    throw namedDeviceError(r, scope);
  }

  /** A new uninitialised tensor from the pool. */
  empty(shape: readonly number[], dtype: DType, label: string): Tensor {
    if (dtype === 'f16' && !this.hasF16) throw new FeatureMissingError('shader-f16', `f16 tensor "${label}"`);
    if (this.trimBeforeAcquire) {
      // the buffers released while the failed run unwound went back to the pool after the first trim
      this.trimBeforeAcquire = false;
      this.pool.trim();
    }
    const buffer = this.pool.acquire(Math.max(4, byteSize(shape, dtype)), label);
    const lease = this.nextLease++;
    this.leases.set(buffer, lease);
    return { shape: [...shape], dtype, buffer, offset: 0, lease };
  }

  /**
   * A dedicated, exactly sized buffer outside the pool, for long-lived tensors such as weights (the
   * pool's size classes would waste up to 12.5% of several GiB). Freed by `destroyTensor`.
   */
  persistent(shape: readonly number[], dtype: DType, label: string): Tensor {
    if (dtype === 'f16' && !this.hasF16) throw new FeatureMissingError('shader-f16', `f16 tensor "${label}"`);
    return this.allocatePersistent(shape, dtype, label);
  }

  /** The one place dedicated buffers are made (`persistent` and `persistentWeight`); freed by `destroyTensor`. */
  protected allocatePersistent(shape: readonly number[], dtype: DType, label: string): Tensor {
    // Padded to whole u32 words: a packed-f16 weight with an odd count has a half-filled last word.
    const size = Math.max(4, Math.ceil(byteSize(shape, dtype) / 4) * 4);
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    return { shape: [...shape], dtype, buffer, offset: 0 };
  }

  /**
   * A persistent weight tensor. Unlike `persistent`, f16 is allowed on a device without shader-f16:
   * there it is a packed weight, f16 pairs in u32 words that only the kernels with a packed variant
   * read (matmul's B, conv2d's weight, the embedding table; DESIGN.md "GPUs as Chrome offers them").
   * Activations never get this path: `empty`/`persistent` still refuse f16 there.
   */
  persistentWeight(shape: readonly number[], dtype: DType, label: string): Tensor {
    return this.allocatePersistent(shape, dtype, label);
  }

  /** `upload` for a persistent weight, f16 packed on a device without shader-f16 (tests, small loaders). */
  uploadWeight(data: ArrayLike<number>, shape: readonly number[], dtype: DType, label: string): Tensor {
    if (data.length !== numel(shape)) throw new RangeError(`${label}: ${data.length} values for shape [${shape.join(', ')}]`);
    const t = this.persistentWeight(shape, dtype, label);
    this.write(t, dtype === 'f16' ? toF16Array(data) : Float32Array.from(data));
    return t;
  }

  /** Whether `t` is a packed-f16 weight (f16 storage on a device without shader-f16). */
  isPacked(t: Tensor): boolean {
    return t.dtype === 'f16' && !this.hasF16;
  }

  destroyTensor(t: Tensor): void {
    if (t.lease !== undefined) throw new Error(`"${t.buffer.label}" is pooled: release() it instead`);
    t.buffer.destroy();
  }

  /**
   * Writes raw element data (f32 values, or f16 bit patterns for an f16 tensor) at an element offset,
   * for chunked uploads of weights straight from a file.
   */
  write(t: Tensor, data: Float32Array | Uint16Array, elementOffset = 0): void {
    const expected = t.dtype === 'f16' ? Uint16Array : Float32Array;
    if (!(data instanceof expected)) throw new TypeError(`write: ${t.dtype} tensor needs ${expected.name} data`);
    if (elementOffset + data.length > numel(t.shape)) throw new RangeError(`write: ${data.length} values at ${elementOffset} overflow ${t.shape}`);
    this.submitPendingBeforeWrite();
    if ((elementOffset * data.BYTES_PER_ELEMENT) % 4) throw new RangeError('write: the byte offset must be a multiple of 4');
    const bytes = data.byteLength % 4 ? padTo4(data) : data;
    this.device.queue.writeBuffer(t.buffer, t.offset + elementOffset * data.BYTES_PER_ELEMENT, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** A tensor holding `data` (given in f32; stored as f16 when dtype is f16). */
  upload(data: ArrayLike<number>, shape: readonly number[], dtype: DType, label: string): Tensor {
    if (data.length !== numel(shape)) {
      throw new RangeError(`${label}: ${data.length} values for shape [${shape.join(', ')}]`);
    }
    const t = this.empty(shape, dtype, label);
    this.submitPendingBeforeWrite();
    const bytes = dtype === 'f16' ? toF16Array(data) : Float32Array.from(data);
    // writeBuffer needs a multiple of 4 bytes; an odd f16 count is padded with one zero.
    const padded = bytes.byteLength % 4 ? padTo4(bytes) : bytes;
    this.device.queue.writeBuffer(t.buffer, t.offset, padded.buffer, padded.byteOffset, padded.byteLength);
    return t;
  }

  /** Whether a pooled tensor handle still owns its buffer (false once released). */
  isLive(t: Tensor): boolean {
    return t.lease !== undefined && this.leases.get(t.buffer) === t.lease;
  }

  /**
   * Returns pooled tensors' buffers to the pool (views made by reshaping share the lease). Releasing a
   * handle twice is a bug that would free the buffer's next owner, so it throws. Persistent tensors
   * (weights) are not pooled and are ignored here.
   */
  release(...tensors: Tensor[]): void {
    for (const t of tensors) {
      if (t.lease === undefined) continue;
      if (!this.isLive(t)) throw new Error(`tensor "${t.buffer.label}" [${t.shape.join('×')}] was released twice`);
      this.leases.delete(t.buffer);
      this.pool.release(t.buffer);
    }
  }

  /** Releases the handles that are still live, for cleanup after code that may have released some. */
  releaseLive(...tensors: Tensor[]): void {
    for (const t of tensors) if (this.isLive(t)) this.release(t);
  }

  /** Submits pending work and reads a tensor back as f32 values. */
  async read(t: Tensor): Promise<Float32Array> {
    const bytes = byteSize(t.shape, t.dtype);
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({
      label: `readback ${t.buffer.label}`,
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.recorder.copy(t.buffer, t.offset, staging, 0, size);
    const scope = `the GPU work before reading "${t.buffer.label}"`;
    try {
      await this.flush();
      await staging.mapAsync(GPUMapMode.READ);
      // an error reported while the map was pending would leave zeros in the staging buffer
      this.throwIfDeviceError(scope);
    } catch (err) {
      staging.destroy();
      // a rejected map (e.g. its copy was dropped) is explained by the device's own error when it has one
      this.throwIfDeviceError(scope);
      throw err;
    }
    const raw = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    const n = numel(t.shape);
    return t.dtype === 'f16' ? fromF16Array(new Uint16Array(raw, 0, n)) : new Float32Array(raw, 0, n);
  }

  destroy(): void {
    this.pool.destroy();
    this.profiler?.destroy();
    this.device.destroy();
  }
}

function padTo4(bytes: Uint16Array | Float32Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return out;
}
