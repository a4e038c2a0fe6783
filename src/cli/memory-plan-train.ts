/**
 * npm run memory-plan -- --train [--size 1024x1024 --batch 1 --dtype f16|f32 --rank 4 --placeholders 2 --no-checkpointing]
 * A dry run of the real CIDM training step of SDXL base (src/cidm/train/memory-plan.ts) on a planning
 * device. Prints the split of GPU memory; the last two lines read `dispatches <n>` and
 * `train-peak <bytes> largest-binding <bytes>`. Exit code 1 when a target is missed or the step does
 * something a real device would refuse.
 */
import { planTrainingStep, TRAIN_PHASES, type TrainPlan } from '../cidm/train/memory-plan';
import type { LabelBytes } from '../gpu/planning-device';
import type { DType } from '../gpu/tensor';
import { SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG } from '../model/text-encoder/config';
import { SDXL_BASE_UNET } from '../model/unet/sdxl-configs';

const GIB = 2 ** 30;
const MIB = 2 ** 20;

/** Peak targets by image area: the smallest listed size at least as large as the image applies. */
export const TRAIN_PEAK_TARGETS: readonly { pixels: number; bytes: number }[] = [
  { pixels: 512 * 512, bytes: 7.5 * GIB },
  { pixels: 1024 * 1024, bytes: 9 * GIB },
];
export const TRAIN_BINDING_TARGET = 128 * MIB;

export function trainPeakTarget(width: number, height: number): number | null {
  return TRAIN_PEAK_TARGETS.find((t) => width * height <= t.pixels)?.bytes ?? null;
}

const gib = (b: number) => `${(b / GIB).toFixed(3)} GiB`;
const mib = (b: number) => `${(b / MIB).toFixed(1)} MiB`;
const top = (xs: readonly LabelBytes[], n: number) => xs.slice(0, n).map((x) => `${x.label} ${mib(x.bytes)}${x.count > 1 ? ` (${x.count})` : ''}`).join(', ');

export function formatTrainPlan(p: TrainPlan, target: number | null): string[] {
  const lines = [
    `UNet weights          ${gib(p.unetWeightBytes)}`,
    `text-encoder weights  ${gib(p.textEncoderWeightBytes)} (CLIP-L + OpenCLIP-bigG, token tables in row blocks)`,
    `trainable             ${mib(p.trainableBytes)} (f32 params, grads and AdamW moments of the LoRA and token groups)`,
    `activations           ${gib(p.activationPeakBytes)} at the peak: pool footprint ${gib(p.poolFootprintBytes)} + scratch/uniforms ${mib(p.otherBytes)}`,
    `  pool in use         ${gib(p.poolInUsePeakBytes)} at most (the rest of the footprint is idle buffers kept per size class)`,
    `  at backward start   ${gib(p.savedAtBackwardBytes)} held (checkpointed block inputs, text-encoder layer inputs, dL/dε̂)`,
    `  backward on top     ${gib(p.backwardExtraBytes)} (a block's recomputed activations + gradients in flight)`,
    `  held at backward    ${top(p.topAtBackward, 4)}`,
    `  in use at the peak  ${top(p.topAtPeak, 5)}`,
  ];
  for (const ph of TRAIN_PHASES) {
    const s = p.phases[ph];
    lines.push(`  ${ph.padEnd(18)}  device ${gib(s.devicePeakBytes)}, in use ${gib(s.inUseStartBytes)} → peak ${gib(s.inUsePeakBytes)}, ${s.dispatches} dispatches`);
  }
  if (p.leaked.length) lines.push(`LEAKED                ${top(p.leaked, 5)}`);
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  lines.push(`all in                ${gib(p.peakBytes)} (target ${target === null ? 'none at this size' : `≤ ${gib(target)}: ${met(p.peakBytes <= target)}`})`);
  lines.push(`largest binding       ${mib(p.largestBinding.bytes)} ${p.largestBinding.label} (target ≤ ${mib(TRAIN_BINDING_TARGET)}: ${met(p.largestBinding.bytes <= TRAIN_BINDING_TARGET)})`);
  lines.push(`refused by a device   ${p.violationCount}${p.violations.length ? `: ${p.violations.join('; ')}` : ''}`);
  lines.push(`dry run               ${(p.wallMs / 1000).toFixed(1)} s`);
  lines.push(`dispatches ${p.dispatches}`);
  lines.push(`train-peak ${p.peakBytes} largest-binding ${p.largestBinding.bytes}`);
  return lines;
}

/** Runs the plan for the command line's options, prints it, and returns the exit code. */
export async function trainPlanCli(args: readonly string[]): Promise<number> {
  const value = (name: string, def: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1]! : def;
  };
  const [width, height] = value('size', '1024x1024').split('x').map(Number) as [number, number];
  const batch = Number(value('batch', '1'));
  const dtype = value('dtype', 'f16') as DType;
  const rank = Number(value('rank', '4'));
  const placeholders = Number(value('placeholders', '2'));
  const checkpointing = !args.includes('--no-checkpointing');
  const plan = await planTrainingStep({
    unet: SDXL_BASE_UNET,
    encoders: [SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG],
    width,
    height,
    batch,
    dtype,
    rank,
    placeholders,
    checkpointing,
  });
  const target = trainPeakTarget(width, height);
  console.log(`SDXL-base CIDM training step, ${width}×${height} (latent ${height / 8}×${width / 8}), batch ${batch}, ${dtype} weights and activations, LoRA rank ${rank}, ${placeholders} placeholder words, checkpointing ${checkpointing ? 'on' : 'off'}; planning device: maxStorageBufferBindingSize 128 MiB`);
  for (const line of formatTrainPlan(plan, target)) console.log(line);
  const ok = (target === null || plan.peakBytes <= target) && plan.largestBinding.bytes <= TRAIN_BINDING_TARGET && plan.violationCount === 0 && plan.leaked.length === 0;
  return ok ? 0 : 1;
}
