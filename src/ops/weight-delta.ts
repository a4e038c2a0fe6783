/**
 * addWeightDelta(ctx, w, delta): a new persistent weight W' = W + delta in W's storage dtype, for the
 * folds that rewrite base weights (LoRA fold in ops/lora.ts, EWA in src/cidm/ewa/fold.ts).
 *
 * W may be a packed-f16 weight (f16 storage under f32 activations, the path of devices without
 * shader-f16): then delta is f32 and one kernel (shaders/packed_f16_add.wgsl) writes W' as packed
 * pairs, one invocation per u32 word. Otherwise it is the elementwise add into a new tensor.
 */
import type { GpuContext } from '../gpu/context';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, describe, numel, sameShape, type Tensor } from '../gpu/tensor';
import { add } from './elementwise';
import { grid1d } from './grid';
import source from '../../shaders/packed_f16_add.wgsl?raw';

const WG = 256;

export const packedAddKernel: KernelDescriptor<Record<string, never>> = {
  name: 'packed_f16_add',
  source,
  defines: () => ({}),
  constants: () => ({ WG }),
};

/** `into`: a persistent tensor (of W's shape and dtype) to write W' into instead of a new one, e.g. a view of a fused q/k/v buffer. */
export async function addWeightDelta(ctx: GpuContext, w: Tensor, delta: Tensor, label: string, into?: Tensor): Promise<Tensor> {
  if (!sameShape(w.shape, delta.shape)) throw new RangeError(`${label}: delta ${describe(delta)} does not match weight ${describe(w)}`);
  if (into && (!sameShape(into.shape, w.shape) || into.dtype !== w.dtype)) throw new RangeError(`${label}: target ${describe(into)} does not match weight ${describe(w)}`);
  const packed = w.dtype === 'f16' && delta.dtype === 'f32';
  const out = into ?? ctx.persistentWeight(w.shape, w.dtype, label);
  try {
    if (!packed) {
      await add(ctx, w, delta, { out, label });
      return out;
    }
    const count = numel(w.shape);
    if (count === 0) return out;
    const k = await ctx.kernel(packedAddKernel, {});
    ctx.dispatch(k, { uniforms: { count }, bindings: [binding(w), binding(delta), binding(out)], workgroups: grid1d(Math.ceil(count / 2), WG) });
    return out;
  } catch (err) {
    if (!into) ctx.destroyTensor(out);
    throw err;
  }
}
