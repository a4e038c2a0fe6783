/**
 * Records dispatches into one command encoder and submits them together. Uniforms of all dispatches
 * share 64 KiB chunks (256-byte aligned slots, UniformArena) written once at submit, so a UNet step
 * does not create a buffer per dispatch; bind groups come from a cache (bind-group-cache.ts), so a
 * step reuses the previous step's.
 */
import type { CompiledKernel } from './pipeline-cache';
import { packUniforms, type UniformValues } from './uniforms';
import type { TimestampProfiler } from './profiler';
import { BindGroupCache } from './bind-group-cache';

const CHUNK_BYTES = 64 * 1024;

interface UniformChunk {
  buffer: GPUBuffer;
  staging: Uint8Array<ArrayBuffer>;
  used: number;
}

export interface DispatchArgs {
  uniforms: UniformValues;
  /** Storage bindings 1..n, in the order the shader declares them. */
  bindings: GPUBufferBinding[];
  workgroups: readonly [number, number?, number?];
}

/**
 * The uniform chunks, reused by every submission from the first one on: the i-th dispatch of any
 * submission takes slot i of the same chunk (256 per 64 KiB chunk), so the bind groups of a step are
 * the same as the step before's (bind-group-cache.ts) whatever the GPU's pace. Reuse needs no wait:
 * a submission's uniforms are written with queue.writeBuffer just before its submit, and queue
 * operations run in order (WebGPU §"queue timeline"), so a later submission's write lands after every
 * earlier submission has read the slot.
 */
export class UniformArena {
  private readonly chunks: UniformChunk[] = [];
  constructor(private readonly device: GPUDevice, private readonly align: number) {}

  /** The i-th chunk, made on first use; emptied for a new submission. */
  take(i: number): UniformChunk {
    let c = this.chunks[i];
    if (!c) {
      const buffer = this.device.createBuffer({ label: `uniform-arena ${i}`, size: CHUNK_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      c = { buffer, staging: new Uint8Array(CHUNK_BYTES), used: 0 };
      this.chunks[i] = c;
    }
    c.used = 0;
    return c;
  }

  slot(chunk: UniformChunk, bytes: number): number | null {
    const at = Math.ceil(chunk.used / this.align) * this.align;
    if (at + bytes > CHUNK_BYTES) return null;
    chunk.used = at + bytes;
    return at;
  }
}

export class Recorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private chunks: UniformChunk[] = [];
  dispatches = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly arena: UniformArena,
    private readonly profiler: TimestampProfiler | null,
    readonly bindGroups: BindGroupCache = new BindGroupCache(device),
  ) {}

  get pending(): boolean {
    return this.encoder !== null;
  }

  private enc(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: 'cidm-commands' });
    return this.encoder;
  }

  private uniformSlot(bytes: number): { chunk: UniformChunk; offset: number } {
    let chunk = this.chunks[this.chunks.length - 1];
    let offset = chunk ? this.arena.slot(chunk, bytes) : null;
    if (!chunk || offset === null) {
      chunk = this.arena.take(this.chunks.length);
      this.chunks.push(chunk);
      offset = this.arena.slot(chunk, bytes)!;
    }
    return { chunk, offset };
  }

  dispatch(kernel: CompiledKernel, args: DispatchArgs): void {
    const data = new Uint8Array(packUniforms(kernel.uniforms, args.uniforms));
    const { chunk, offset } = this.uniformSlot(data.byteLength);
    chunk.staging.set(data, offset);
    // the uniform is bound at offset 0 and placed by a dynamic offset (pipeline-cache.ts explicitLayout, from binding-reflection.ts),
    // so the bind group is the same for every slot of the chunk and is reused across steps
    const uniform = { buffer: chunk.buffer, offset: kernel.dynamicUniform ? 0 : offset, size: data.byteLength };
    const bindGroup = this.bindGroups.get(kernel, [uniform, ...args.bindings]);
    const timed = this.profiler?.enabled ? this.profiler.passTimestamps(kernel.name) : undefined;
    if (timed || !this.pass) {
      this.endPass();
      this.pass = this.enc().beginComputePass(
        timed ? { label: kernel.name, timestampWrites: timed } : { label: 'cidm-pass' },
      );
    }
    const [x, y = 1, z = 1] = args.workgroups;
    this.pass.setPipeline(kernel.pipeline);
    if (kernel.dynamicUniform) this.pass.setBindGroup(0, bindGroup, [offset]);
    else this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    if (timed) this.endPass();
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.enc().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Writes the uniforms, submits everything recorded, and recycles the uniform chunks afterwards. */
  submit(): Promise<void> {
    if (!this.encoder) return Promise.resolve();
    this.endPass();
    for (const c of this.chunks) this.device.queue.writeBuffer(c.buffer, 0, c.staging, 0, c.used);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.chunks = [];
    return this.device.queue.onSubmittedWorkDone();
  }
}
