/**
 * Compiles each kernel variant once and caches it by its structural key (never by shape). A WGSL
 * compile error becomes a ShaderCompileError naming the kernel and carrying the compiler's messages.
 */
import { ShaderCompileError } from './errors';
import { variantKey, type KernelDescriptor } from './kernel';
import { preprocess } from './preprocess';
import { reflectUniformStruct, type UniformLayout } from './uniforms';
import { reflectBindings, takesDynamicUniform } from './binding-reflection';

export interface CompiledKernel {
  readonly name: string;
  readonly key: string;
  readonly pipeline: GPUComputePipeline;
  readonly uniforms: UniformLayout;
  /** The uniform at binding 0 takes a dynamic offset (explicitLayout); false: bound at its offset ('auto' layout). */
  readonly dynamicUniform: boolean;
}

export class PipelineCache {
  private readonly cache = new Map<string, Promise<CompiledKernel>>();
  private readonly ready = new Map<string, CompiledKernel>();
  compiles = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The compiled variant; compiles it on first use. Concurrent calls share one compile. */
  get<V>(desc: KernelDescriptor<V>, variant: V): Promise<CompiledKernel> {
    const key = variantKey(desc, variant);
    let entry = this.cache.get(key);
    if (!entry) {
      entry = this.compile(desc, variant, key);
      entry.catch(() => this.cache.delete(key));
      this.cache.set(key, entry);
    }
    return entry;
  }

  /** The compiled variant if it is already compiled (for synchronous dispatch paths). */
  peek<V>(desc: KernelDescriptor<V>, variant: V): CompiledKernel | undefined {
    return this.ready.get(variantKey(desc, variant));
  }

  get size(): number {
    return this.ready.size;
  }

  private async compile<V>(desc: KernelDescriptor<V>, variant: V, key: string): Promise<CompiledKernel> {
    let code: string;
    try {
      code = preprocess(desc.source, desc.defines(variant));
    } catch (err) {
      throw new ShaderCompileError(desc.name, (err as Error).message);
    }
    const label = `${desc.name} [${key.slice(desc.name.length + 1)}]`;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label, code });
    const info = await module.getCompilationInfo();
    const scopeError = await this.device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length || scopeError) {
      const text = errors.map((m) => `  ${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
      throw new ShaderCompileError(desc.name, text || scopeError?.message || 'unknown error');
    }
    const dynamicUniform = takesDynamicUniform(code);
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.device.createComputePipelineAsync({
        label,
        layout: dynamicUniform ? explicitLayout(this.device, code, label) : 'auto',
        compute: { module, entryPoint: desc.entryPoint ?? 'main', constants: desc.constants?.(variant) ?? {} },
      });
    } catch (err) {
      throw new ShaderCompileError(desc.name, (err as Error).message);
    }
    const compiled: CompiledKernel = {
      name: desc.name,
      key,
      pipeline,
      uniforms: reflectUniformStruct(code, desc.uniformStruct ?? 'Params'),
      dynamicUniform,
    };
    this.compiles++;
    this.ready.set(key, compiled);
    return compiled;
  }
}

/**
 * The pipeline's layout from its declared bindings (binding-reflection.ts): the same bindings 'auto'
 * would give, except that the uniform has a dynamic offset, so that one bind group per uniform-arena
 * chunk serves every slot in it and the recorder can reuse bind groups across steps
 * (bind-group-cache.ts).
 */
export function explicitLayout(device: GPUDevice, code: string, label: string): GPUPipelineLayout {
  const entries: GPUBindGroupLayoutEntry[] = reflectBindings(code).map(({ binding, kind }) => ({
    binding,
    visibility: GPUShaderStage.COMPUTE,
    buffer: kind === 'uniform' ? { type: 'uniform', hasDynamicOffset: binding === 0 } : { type: kind },
  }));
  const bindGroupLayouts = [device.createBindGroupLayout({ label: `${label} bindings`, entries })];
  return device.createPipelineLayout({ label: `${label} layout`, bindGroupLayouts });
}
