/**
 * Loads AutoencoderKL weights into GPU tensors of the compute dtype. Sources:
 *  - a diffusers VAE file (vae/diffusion_pytorch_model.safetensors), current or pre-0.14 attention names
 *    (query/key/value/proj_attn → to_q/to_k/to_v/to_out.0), attention projections stored as [C, C]
 *    or as 1×1 convs [C, C, 1, 1] (both are mapped transparently);
 *  - explicit mappings, e.g. a single-file checkpoint's `componentMappings(file, plan, 'vae')`.
 * Text-to-image needs only the decoder (`parts: ['decoder']`, about 60% of the weights); img2img and
 * training need the encoder. Every needed tensor is checked for presence and shape before any upload;
 * a failure or abort during the upload destroys what was created.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType, Tensor } from '../../gpu/tensor';
import type { VaeConfig } from '../config';
import type { SafetensorsFile } from '../safetensors/reader';
import { mappedShape, readMapped, type WeightMapping } from '../weights/mapping';
import { checkAgainstSpecs } from '../weights/unet-diffusers';
import { legacyVaeName } from '../weights/vae-ldm';
import { checkComputeDtype, weightStorageDtype } from '../weights/storage-dtype';
import { vaeArch, vaeWeightShapes, type VaeArch, type VaePart } from './arch';

export interface LoadedVae {
  arch: VaeArch;
  /** Canonical diffusers name → resident tensor. */
  weights: Map<string, Tensor>;
  dtype: DType;
  parts: VaePart[];
  bytes: number;
  /** The file, for error messages. */
  source: string;
}

export interface LoadVaeOptions {
  /** The compute (activation) dtype. */
  dtype: DType;
  /** Store the conv kernels and attention matrices as packed f16 under f32 compute (model/weights/storage-dtype.ts). */
  packWeights?: boolean;
  /** Default both halves (or the decoder alone with decoderOnly). */
  parts?: readonly VaePart[];
  /** Shorthand for parts: ['decoder'] (text-to-image). */
  decoderOnly?: boolean;
  /** Where each canonical tensor is in the file; default: a diffusers VAE file (see resolveVaeMappings). */
  mappings?: readonly WeightMapping[];
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const ATTN_PROJ = /\.mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$/;

/**
 * The mappings of the tensors `parts` need, in file order, after checking each one's presence and
 * (mapped) shape: a wrong or incomplete file fails here with a ModelFileError, before any read.
 */
export function resolveVaeMappings(file: SafetensorsFile, config: VaeConfig, parts: readonly VaePart[], given?: readonly WeightMapping[]): WeightMapping[] {
  const shapes = vaeWeightShapes(config, parts);
  let byTarget: Map<string, WeightMapping>;
  if (given) {
    byTarget = new Map(given.filter((m) => shapes.has(m.target)).map((m) => [m.target, m]));
  } else {
    byTarget = new Map();
    for (const source of file.names()) {
      const target = legacyVaeName(source);
      if (!shapes.has(target)) continue;
      const stored = file.info(source).shape;
      const want = shapes.get(target)!;
      // an LDM-style 1×1-conv attention projection [C, C, 1, 1] is the Linear weight [C, C]
      const conv = ATTN_PROJ.test(target) && stored.length === 4 && stored[2] === 1 && stored[3] === 1;
      byTarget.set(target, conv ? { component: 'vae', target, source, transform: { kind: 'reshape', shape: want } } : { component: 'vae', target, source });
    }
  }
  const specs = [...shapes].map(([name, shape]) => ({ name, shape }));
  checkAgainstSpecs(file.name, specs, (name) => {
    const m = byTarget.get(name);
    return m && file.has(m.source) ? { shape: mappedShape(file, m) } : undefined;
  });
  const order = new Map(file.names().map((n, i) => [n, i]));
  return specs.map((s) => byTarget.get(s.name)!).sort((a, b) => order.get(a.source)! - order.get(b.source)!);
}

export async function loadVae(ctx: GpuContext, file: SafetensorsFile, config: VaeConfig, o: LoadVaeOptions): Promise<LoadedVae> {
  const parts: VaePart[] = [...(o.parts ?? (o.decoderOnly ? ['decoder'] : ['encoder', 'decoder']))];
  const arch = vaeArch(config);
  const mappings = resolveVaeMappings(file, config, parts, o.mappings);
  checkComputeDtype(ctx, o.dtype, 'the VAE');
  o.signal?.throwIfAborted();
  const weights = new Map<string, Tensor>();
  let bytes = 0;
  try {
    for (const [i, m] of mappings.entries()) {
      o.signal?.throwIfAborted();
      // VAE tensors are small (the largest, a 512→512 3×3 conv, is 9.4 MB in f32): read each whole.
      const dtype = weightStorageDtype(mappedShape(file, m), o.dtype, o.packWeights);
      const { shape, data } = await readMapped(file, m, dtype);
      const t = ctx.persistentWeight(shape, dtype, `vae ${m.target}`);
      weights.set(m.target, t);
      ctx.write(t, data);
      bytes += t.buffer.size;
      o.onProgress?.(i + 1, mappings.length);
    }
  } catch (err) {
    for (const t of weights.values()) ctx.destroyTensor(t);
    weights.clear();
    throw err;
  }
  return { arch, weights, dtype: o.dtype, parts, bytes, source: file.name };
}

export function destroyVae(ctx: GpuContext, vae: LoadedVae): void {
  for (const t of vae.weights.values()) ctx.destroyTensor(t);
  vae.weights.clear();
}
