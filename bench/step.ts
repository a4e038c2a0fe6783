/**
 * `npm run bench -- --suite step [--full]`: one whole UNet step as a generation runs it (forward.ts on
 * GpuUNetBackend, CFG batch 2), timed, with its FLOPs (src/model/unet/flop-count.ts), GFLOP/s, % of the
 * adapter's measured FMA peak (peak.ts) and dispatches (dispatch-count.ts). --full: SDXL-base at 1024²
 * in f16 where the adapter has shader-f16 (the target shape; weights are zero-filled buffers
 * of the real layout: the work does not depend on the values); without --full: the tiny golden UNet's
 * config at its own 256², which a CPU adapter runs in seconds. No peer has an SDXL-base UNet in ONNX
 * here: the tiny UNet against onnxruntime-web is the `unet` suite.
 */
import type { GpuContext } from '../src/gpu/context';
import type { DType } from '../src/gpu/tensor';
import type { UNetConfigJson } from '../src/model/unet/arch';
import { countUNetStepDispatches } from '../src/model/unet/dispatch-count';
import { countUNetStepFlops } from '../src/model/unet/flop-count';
import { runSyntheticStep } from '../src/model/unet/synthetic-step';
import { GpuUNetBackend } from '../src/model/unet/gpu-backend';
import { destroyUNet } from '../src/model/unet/load';
import { SDXL_BASE_UNET } from '../src/model/unet/sdxl-configs';
import { sizedUNet } from '../src/model/unet/sized-unet';
import { timeRuns } from './timing';

export interface StepBenchRow {
  model: string;
  size: string;
  batch: number;
  dtype: DType;
  ms: number;
  tflop: number;
  gflops: number;
  pctPeak: number;
  dispatches: number;
}

export async function runStepBench(ctx: GpuContext, o: { size: 'small' | 'full'; maxRuns: number; peakGflops: number }, log: (s: string) => void): Promise<StepBenchRow[]> {
  const full = o.size === 'full';
  const config: UNetConfigJson = full ? SDXL_BASE_UNET : ((await (await fetch('/golden/models/unet/config.json')).json()) as UNetConfigJson);
  const model = full ? 'SDXL-base' : 'tiny golden';
  const side = full ? 1024 : 256;
  const batch = 2;
  const dtype: DType = full && ctx.hasF16 ? 'f16' : 'f32';
  const unet = sizedUNet(ctx, config, dtype);
  const { arch } = unet;
  const be = new GpuUNetBackend(ctx, unet.weights, dtype, `${model} unet`);
  const zeros = (shape: number[], label: string) => ctx.upload(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, dtype, label);
  const size = { width: side, height: side, batch };
  try {
    const timing = await timeRuns(async () => {
      const { out, inputs } = await runSyntheticStep(be, arch, size, zeros);
      await ctx.flush();
      ctx.release(out, ...inputs);
    }, o.maxRuns);
    const flops = await countUNetStepFlops(config, { width: side, height: side, batch });
    const dispatches = await countUNetStepDispatches(config, { width: side, height: side, batch, dtype });
    const gflops = flops / timing.medianMs / 1e6;
    const row: StepBenchRow = { model, size: `${side}×${side}`, batch, dtype, ms: timing.medianMs, tflop: flops / 1e12, gflops, pctPeak: (100 * gflops) / o.peakGflops, dispatches };
    log(`step ${model} ${row.size} ${dtype}: ${row.ms.toFixed(1)} ms, ${gflops.toFixed(1)} GFLOP/s (${row.pctPeak.toFixed(1)}% of peak), ${dispatches} dispatches`);
    return [row];
  } finally {
    destroyUNet(ctx, unet);
  }
}
