/**
 * Classifier-free guidance followed by guidance rescale φ on the GPU (shaders/cfg_rescale.wgsl), for the
 * GPU sampling loop: the UNet's [uncond, cond] prediction of one sample → the rescaled guided prediction,
 * which the sampler step then reads (sampler-step.ts, preGuided). The host form is
 * src/diffusion/guidance-rescale.ts (diffusers rescale_noise_cfg); the reference below is the same math.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, type DType, type Tensor } from '../gpu/tensor';
import source from '../../shaders/cfg_rescale.wgsl?raw';

const WG = 256;

export const cfgRescaleKernel: KernelDescriptor<{ pred: DType }> = {
  name: 'cfg_rescale',
  source,
  defines: (v) => ({ P_T: v.pred, F16: v.pred === 'f16' }),
  constants: () => ({ WG }),
};

/** Writes guided = rescale(u + g·(c − u)) into `out` (f32, n values) from pred = [u (n), c (n)]. */
export async function cfgRescale(ctx: GpuContext, pred: Tensor, out: Tensor, guidance: number, phi: number): Promise<void> {
  const n = numel(out.shape);
  if (out.dtype !== 'f32') throw new RangeError('cfg rescale: the output is f32');
  if (n < 2 || numel(pred.shape) !== 2 * n) throw new RangeError(`cfg rescale: pred [${pred.shape.join(', ')}] is not two rows of ${n} (one sample's uncond and cond; n ≥ 2 for a std)`);
  if (!(phi >= 0 && phi <= 1)) throw new RangeError(`cfg rescale: φ must be from 0 to 1, got ${phi}`);
  if (!ctx.hasF16 && pred.dtype === 'f16') throw new FeatureMissingError('shader-f16', 'cfg rescale on an f16 UNet output');
  const k = await ctx.kernel(cfgRescaleKernel, { pred: pred.dtype });
  ctx.dispatch(k, { uniforms: { n, guidance, phi }, bindings: [binding(pred), binding(out)], workgroups: [1, 1] });
}

/** Plain-TS reference in f64: CFG, then φ·guided·std(c)/std(guided) + (1 − φ)·guided. */
export function cfgRescaleReference(pred: Float32Array, guidance: number, phi: number): Float32Array {
  const n = pred.length / 2;
  const c = pred.subarray(n);
  const g = Float64Array.from({ length: n }, (_, i) => pred[i]! + guidance * (c[i]! - pred[i]!));
  const std = (v: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < n; i++) m += v[i]!;
    m /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (v[i]! - m) ** 2;
    return Math.sqrt(ss / (n - 1));
  };
  const ratio = std(c) / std(g);
  return Float32Array.from(g, (v) => phi * (v * ratio) + (1 - phi) * v);
}
