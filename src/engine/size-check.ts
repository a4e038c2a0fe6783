/**
 * Before sampling, the UNet's memory plan (the real forward on the shapes-only backend, see
 * src/model/unet/memory-plan.ts) tells the largest buffer a step will bind at this size. If it is over
 * the device's per-binding limit the run would fail mid-way; refuse it up front and say what fits.
 * Activation sizes grow with the pixel count, so the suggestion scales the area by limit/needed.
 */
import type { DType } from '../gpu/tensor';
import type { UNetConfigJson } from '../model/unet/arch';
import { planUNetStep } from '../model/unet/memory-plan';
import { ImageTooLargeError } from './errors';

export async function checkImageSize(
  config: UNetConfigJson,
  o: { width: number; height: number; batch: number; dtype: DType; packedWeights?: boolean; maxBindingBytes: number; latentFactor: number },
): Promise<void> {
  const plan = await planUNetStep(config, {
    width: o.width, height: o.height, batch: o.batch, weightDtype: o.dtype, activationDtype: o.dtype, latentFactor: o.latentFactor,
    // packed f16 weights (no shader-f16): the plan sizes the weight bindings as they are stored
    ...(o.packedWeights ? { packedWeights: true } : {}),
  });
  if (plan.largestBindingBytes <= o.maxBindingBytes) return;
  const scale = Math.sqrt(o.maxBindingBytes / plan.largestBindingBytes);
  const side = (v: number) => Math.max(64, Math.floor((v * scale) / 64) * 64);
  const hints = [`Choose a size of about ${side(o.width)}×${side(o.height)} or less`];
  if (o.dtype === 'f32') hints.push('or f16 precision (half the memory) if this GPU has it');
  if (o.batch > 1) hints.push('or the low-memory mode');
  throw new ImageTooLargeError(o.width, o.height, plan.largestBindingBytes, o.maxBindingBytes, `${hints.join(', ')}.`);
}
