/**
 * npm run memory-plan [-- --size 1024x1024 --batch 2 --weights f16|f32 --activations f16|f32 --sd15 --no-shader-f16]
 * --no-shader-f16: a device without shader-f16, matrices and conv kernels packed f16 in u32 words, vectors
 * and activations f32 (DESIGN.md "GPUs as Chrome offers them"); its target is 7.5 GiB at 1024².
 * A dry run of one SDXL UNet step (CFG batch 2 by default) over the real SDXL-base config: no weights
 * or GPU needed; also the compute dispatches one step makes. Both are a later step of a sampling run, with
 * the run's attn2 K/V cache (projected on the first step) live beside it. The last line reads
 * `peak <bytes> largest-binding <bytes>`; exit 1 if a target is missed.
 * With --train: the CIDM training step instead (memory-plan-train.ts).
 */
import { planUNetStep } from '../model/unet/memory-plan';
import { unetStepDispatches } from '../model/unet/dispatch-count';
import { trainPlanCli } from './memory-plan-train';
import { SD15_UNET, SDXL_BASE_UNET } from '../model/unet/sdxl-configs';
import type { DType } from '../gpu/tensor';

const args = process.argv.slice(2);
if (args.includes('--train')) process.exit(await trainPlanCli(args));
const value = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const [width, height] = value('size', '1024x1024').split('x').map(Number) as [number, number];
const sd15 = args.includes('--sd15');
const noF16 = args.includes('--no-shader-f16');
const opts = {
  width,
  height,
  batch: Number(value('batch', '2')),
  weightDtype: (noF16 ? 'f16' : value('weights', 'f16')) as DType,
  activationDtype: (noF16 ? 'f32' : value('activations', 'f16')) as DType,
  packedWeights: noF16,
  // a later step of a sampling run: the run's attn2 K/V cache is live beside it (cross-attention-kv-cache.ts)
  crossAttentionCache: true,
};
// Without shader-f16 the activations are f32 (twice the bytes), so the target is 7.5 GiB (issue 12 point 6).
const PEAK_TARGET = (noF16 ? 7.5 : 7) * 2 ** 30;
const BINDING_TARGET = 128 * 2 ** 20;

const plan = await planUNetStep(sd15 ? SD15_UNET : SDXL_BASE_UNET, opts);
const gib = (b: number) => `${(b / 2 ** 30).toFixed(3)} GiB`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const weightsLabel = noF16 ? 'packed f16 pairs in u32 (vectors f32; no shader-f16)' : opts.weightDtype;
console.log(`${sd15 ? 'SD-1.5' : 'SDXL-base'} UNet step, ${width}×${height} (latent ${height / 8}×${width / 8}), batch ${opts.batch}, weights ${weightsLabel}, activations ${opts.activationDtype}`);
console.log(`weights            ${gib(plan.weightBytes)} in ${plan.weightTensors} tensors (largest ${plan.largestWeight.name}: ${mib(plan.largestWeight.bytes)})`);
console.log(`activations        live peak ${gib(plan.activationPeakBytes)}; pool footprint ${gib(plan.activationPoolBytes)} (size classes, reuse)`);
console.log(`largest activation ${plan.largestActivation.label} [${plan.largestActivation.shape.join('×')}]: ${mib(plan.largestActivation.bytes)}`);
console.log(`all in             ${gib(plan.peakBytes)} (target ≤ ${gib(PEAK_TARGET)}: ${plan.peakBytes <= PEAK_TARGET ? 'met' : 'MISSED'})`);
console.log(`largest binding    ${mib(plan.largestBindingBytes)} (target ≤ ${mib(BINDING_TARGET)}: ${plan.largestBindingBytes <= BINDING_TARGET ? 'met' : 'MISSED'})`);
console.log(`attn2 K/V cache    ${mib(plan.kvCacheBytes)} held through the run (every cross-attention layer's K and V, projected on the first step; included above)`);
// issue "speed" point 3: launches per step, counted by running the real forward on the planning device
const stepSize = { width, height, batch: opts.batch, dtype: opts.activationDtype, packWeights: noF16 };
const dispatches = await unetStepDispatches(sd15 ? SD15_UNET : SDXL_BASE_UNET, { ...stepSize, crossAttentionCache: true });
const firstStep = await unetStepDispatches(sd15 ? SD15_UNET : SDXL_BASE_UNET, stepSize);
console.log(`dispatches         ${dispatches.total} per UNet step of batch ${opts.batch} in a run's steady state (attn2 K/V cached; the first step: ${firstStep.total}; the real forward, counted on a planning device)`);
console.log(`  by kernel        ${[...dispatches.byKernel].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
if (noF16) console.log(`no shader-f16      packed f16 weights + f32 activations: ${gib(plan.peakBytes)} all in, largest binding ${mib(plan.largestBindingBytes)}`);
console.log(`peak ${plan.peakBytes} largest-binding ${plan.largestBindingBytes}`);
process.exit(plan.peakBytes <= PEAK_TARGET && plan.largestBindingBytes <= BINDING_TARGET ? 0 : 1);
