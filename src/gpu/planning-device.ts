/**
 * A planning WebGPU device: the subset of GPUDevice that src/gpu and the ops use, with no GPU behind
 * it. Buffers are only sizes (mapped reads give zeros), shader modules compile to nothing, dispatches
 * are counted. What it measures is what a real device would hold: every byte createBuffer handed out
 * and not yet destroyed (the pool's footprint, weights, scratch, uniform chunks, staging), the peak of
 * that, the largest binding of any bind group, and the number of compute dispatches.
 *
 * Why a fake device and not a shape-only backend: the training step (tape, checkpointing, backward
 * kernels, optimizer) is far more code than the UNet forward, and only running that code itself gives
 * a plan that cannot drift from it. The device also checks what a real one would refuse (a binding
 * over maxStorageBufferBindingSize, an unaligned offset, a grid over 65535 workgroups) and lists it as
 * a violation, so a plan that "fits" but would fail validation does not pass.
 */
import type { GpuDeviceHandle } from './device';

/** A typical discrete GPU under Chrome: 2 GiB buffers, Chrome's default 128 MiB per storage binding. */
export const PLANNING_LIMITS = {
  maxBufferSize: 2 * 2 ** 30,
  maxStorageBufferBindingSize: 128 * 2 ** 20,
  maxUniformBufferBindingSize: 65536,
  minStorageBufferOffsetAlignment: 256,
  minUniformBufferOffsetAlignment: 256,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxComputeWorkgroupSizeZ: 64,
  maxStorageBuffersPerShaderStage: 10,
  maxUniformBuffersPerShaderStage: 12,
  maxBindGroups: 4,
  maxBindingsPerBindGroup: 1000,
} as const;

export type PlanningLimits = { -readonly [K in keyof typeof PLANNING_LIMITS]: number };

/** The WebGPU namespace constants (spec values), installed when the host has no WebGPU (Node). */
export function installWebGpuConstants(): void {
  const g = globalThis as Record<string, unknown>;
  g.GPUBufferUsage ??= { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, INDEX: 16, VERTEX: 32, UNIFORM: 64, STORAGE: 128, INDIRECT: 256, QUERY_RESOLVE: 512 };
  g.GPUMapMode ??= { READ: 1, WRITE: 2 };
  g.GPUShaderStage ??= { VERTEX: 1, FRAGMENT: 2, COMPUTE: 4 };
}

export interface LargestBinding {
  bytes: number;
  /** "<kernel> <- <buffer label>" */
  label: string;
}

/** Live planning buffers, by label, largest first. */
export interface LabelBytes {
  label: string;
  bytes: number;
  count: number;
}

const MAX_VIOLATIONS = 20;

class PlanningBuffer {
  destroyed = false;
  mapState: GPUBufferMapState = 'unmapped';
  private mapped: ArrayBuffer | null = null;

  constructor(
    private readonly dev: PlanningDevice,
    readonly size: number,
    readonly usage: number,
    public label: string,
  ) {}

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.dev.freed(this);
  }

  mapAsync(): Promise<void> {
    this.mapState = 'mapped';
    return Promise.resolve();
  }

  getMappedRange(offset = 0, size = this.size - offset): ArrayBuffer {
    this.mapped = new ArrayBuffer(size);
    return this.mapped;
  }

  unmap(): void {
    this.mapped = null;
    this.mapState = 'unmapped';
  }
}

/** The device object; `device` is it seen as a GPUDevice. */
export class PlanningDevice {
  readonly limits: PlanningLimits;
  readonly features = new Set<string>(['shader-f16']);
  readonly lost = new Promise<GPUDeviceLostInfo>(() => undefined);
  readonly queue = {
    writeBuffer: (buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset = 0, size?: number) => {
      const bytes = size ?? (data as ArrayBufferView | ArrayBuffer).byteLength - dataOffset;
      this.check(offset % 4 === 0 && bytes % 4 === 0, `writeBuffer of ${bytes} bytes at ${offset} into "${buffer.label}" is not 4-byte aligned`);
      this.check(offset + bytes <= buffer.size, `writeBuffer of ${bytes} bytes at ${offset} overflows "${buffer.label}" (${buffer.size})`);
      this.checkAlive(buffer, 'writeBuffer');
    },
    submit: () => {
      this.submits++;
    },
    onSubmittedWorkDone: () => Promise.resolve(),
  };

  private live = new Set<PlanningBuffer>();
  liveBytes = 0;
  peakBytes = 0;
  /** Peak since the last markWindow(). */
  windowPeakBytes = 0;
  dispatches = 0;
  /** Dispatches by kernel name (the bind group's label), to see where a step's launches go. */
  readonly dispatchesByKernel = new Map<string, number>();
  submits = 0;
  buffersCreated = 0;
  largestBinding: LargestBinding = { bytes: 0, label: '' };
  readonly violations: string[] = [];
  violationCount = 0;

  constructor(limits: Partial<PlanningLimits> = {}) {
    installWebGpuConstants();
    this.limits = { ...PLANNING_LIMITS, ...limits };
  }

  get device(): GPUDevice {
    return this as unknown as GPUDevice;
  }

  /** Starts a new window for windowPeakBytes. */
  markWindow(): void {
    this.windowPeakBytes = this.liveBytes;
  }

  /** Live buffers by label (buffers a pool relabels on reuse carry their current owner's label). */
  liveByLabel(): LabelBytes[] {
    const m = new Map<string, LabelBytes>();
    for (const b of this.live) {
      const e = m.get(b.label) ?? { label: b.label, bytes: 0, count: 0 };
      e.bytes += b.size;
      e.count++;
      m.set(b.label, e);
    }
    return [...m.values()].sort((a, b) => b.bytes - a.bytes);
  }

  private check(ok: boolean, what: string): void {
    if (ok) return;
    this.violationCount++;
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(what);
  }

  private checkAlive(b: GPUBuffer, where: string): void {
    this.check(!(b as unknown as PlanningBuffer).destroyed, `${where} uses destroyed buffer "${b.label}"`);
  }

  freed(b: PlanningBuffer): void {
    if (!this.live.delete(b)) return;
    this.liveBytes -= b.size;
  }

  createBuffer(d: GPUBufferDescriptor): GPUBuffer {
    this.check(d.size <= this.limits.maxBufferSize, `buffer "${d.label}" of ${d.size} bytes is over maxBufferSize ${this.limits.maxBufferSize}`);
    const b = new PlanningBuffer(this, d.size, d.usage, d.label ?? '');
    this.live.add(b);
    this.buffersCreated++;
    this.liveBytes += d.size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    this.windowPeakBytes = Math.max(this.windowPeakBytes, this.liveBytes);
    return b as unknown as GPUBuffer;
  }

  createShaderModule(d: GPUShaderModuleDescriptor): GPUShaderModule {
    return { label: d.label ?? '', getCompilationInfo: () => Promise.resolve({ messages: [] }) } as unknown as GPUShaderModule;
  }

  createBindGroupLayout(d: GPUBindGroupLayoutDescriptor): GPUBindGroupLayout {
    return { label: d.label ?? '' } as unknown as GPUBindGroupLayout;
  }

  createPipelineLayout(d: GPUPipelineLayoutDescriptor): GPUPipelineLayout {
    return { label: d.label ?? '' } as unknown as GPUPipelineLayout;
  }

  createComputePipeline(d: GPUComputePipelineDescriptor): GPUComputePipeline {
    const layout = { label: `${d.label ?? ''} layout` };
    return { label: d.label ?? '', getBindGroupLayout: () => layout } as unknown as GPUComputePipeline;
  }

  createComputePipelineAsync(d: GPUComputePipelineDescriptor): Promise<GPUComputePipeline> {
    return Promise.resolve(this.createComputePipeline(d));
  }

  createBindGroup(d: GPUBindGroupDescriptor): GPUBindGroup {
    const label = d.label ?? '';
    let storage = 0;
    for (const e of d.entries) {
      const r = e.resource as GPUBufferBinding;
      const buf = r.buffer as unknown as PlanningBuffer;
      const offset = r.offset ?? 0;
      const size = r.size ?? buf.size - offset;
      const uniform = (buf.usage & GPUBufferUsage.UNIFORM) !== 0;
      if (!uniform) storage++;
      const align = uniform ? this.limits.minUniformBufferOffsetAlignment : this.limits.minStorageBufferOffsetAlignment;
      const max = uniform ? this.limits.maxUniformBufferBindingSize : this.limits.maxStorageBufferBindingSize;
      this.check(offset % align === 0, `${label}: binding ${e.binding} ("${buf.label}") offset ${offset} is not a multiple of ${align}`);
      this.check(size <= max, `${label}: binding ${e.binding} ("${buf.label}") is ${size} bytes, over ${max}`);
      this.check(uniform || size % 4 === 0, `${label}: binding ${e.binding} ("${buf.label}") size ${size} is not a multiple of 4`);
      this.check(offset + size <= buf.size, `${label}: binding ${e.binding} ("${buf.label}") ${offset}+${size} overflows ${buf.size}`);
      this.checkAlive(buf as unknown as GPUBuffer, label);
      if (size > this.largestBinding.bytes) this.largestBinding = { bytes: size, label: `${label} <- ${buf.label}` };
    }
    this.check(storage <= this.limits.maxStorageBuffersPerShaderStage, `${label}: ${storage} storage buffers, over ${this.limits.maxStorageBuffersPerShaderStage}`);
    return { label } as unknown as GPUBindGroup;
  }

  createCommandEncoder(): GPUCommandEncoder {
    let kernel = '';
    const pass = {
      setPipeline: () => undefined,
      setBindGroup: (_i: number, bg: GPUBindGroup) => {
        kernel = bg.label;
      },
      dispatchWorkgroups: (x: number, y = 1, z = 1) => {
        const max = this.limits.maxComputeWorkgroupsPerDimension;
        this.check(x <= max && y <= max && z <= max, `dispatch of ${x}×${y}×${z} workgroups is over ${max} per dimension`);
        this.dispatches++;
        this.dispatchesByKernel.set(kernel, (this.dispatchesByKernel.get(kernel) ?? 0) + 1);
      },
      end: () => undefined,
    };
    return {
      beginComputePass: () => pass,
      copyBufferToBuffer: (src: GPUBuffer, so: number, dst: GPUBuffer, dOff: number, size: number) => {
        this.check(so % 4 === 0 && dOff % 4 === 0 && size % 4 === 0, `copy of ${size} bytes ${so}→${dOff} is not 4-byte aligned`);
        this.check(so + size <= src.size && dOff + size <= dst.size, `copy of ${size} bytes overflows "${src.label}" or "${dst.label}"`);
        this.checkAlive(src, 'copy');
        this.checkAlive(dst, 'copy');
      },
      resolveQuerySet: () => undefined,
      finish: () => ({}) as GPUCommandBuffer,
    } as unknown as GPUCommandEncoder;
  }

  pushErrorScope(): void {}

  popErrorScope(): Promise<GPUError | null> {
    return Promise.resolve(null);
  }

  destroy(): void {}
}

/** A GpuDeviceHandle over a planning device (for `new GpuContext(handle)`). */
export function planningHandle(dev: PlanningDevice): GpuDeviceHandle {
  const summary = {
    vendor: 'planning',
    architecture: 'discrete',
    device: 'planning device',
    description: 'memory planning (no GPU)',
    isFallbackAdapter: false,
    features: [...dev.features].sort(),
    limits: { ...dev.limits } as Record<string, number>,
  };
  const adapter = { features: dev.features, limits: dev.limits, info: summary, requestDevice: () => Promise.resolve(dev.device) } as unknown as GPUAdapter;
  return { adapter, device: dev.device, summary, hasF16: true, hasTimestamps: false, hasSubgroups: false, lost: new Promise(() => undefined) };
}
