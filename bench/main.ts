/**
 * The bench page: runs each case's variants and the onnxruntime-web peer on one GPUDevice, one after
 * the other (never overlapping), checks that both computed the same output, and returns one row per
 * (case, variant). Driven by scripts/bench.mjs through Playwright.
 */
import { GpuContext, adapterLabel } from '../src/gpu';
import { ALL_CASES } from './cases';
import type { Sidecar } from './inputs';
import { makeInput } from './inputs';
import { createPeer } from './peer';
import { maxAbsDiff, timeRuns } from './timing';
import { runRegionsBench, type RegionBenchRow } from './regions';
import { runTrainBench, type TrainBenchRow } from './train';
import { runEwaBench, type EwaBenchRow } from './ewa';
import { measureFmaPeak } from './peak';
import { runStepBench, type StepBenchRow } from './step';
import { runWholeBench, type WholeBenchRow } from './whole';

export interface BenchRow {
  op: string;
  model: string;
  shape: string;
  variant: string;
  oursMs: number;
  peerMs: number;
  gflops: number;
  /** gflops as a share of the adapter's measured FMA peak (peak.ts), in %. */
  pctPeak: number;
  ratio: number;
  maxAbsVsPeer: number;
  outputScale: number;
}

export interface BenchOptions {
  suites: string[];
  size: 'small' | 'full';
  maxRuns: number;
  variants?: string[];
  /** train suite: per-kernel timestamps of one more step (bench/train-profile.ts). */
  profile?: boolean;
}

function shapeOf(meta: Sidecar): string {
  return meta.inputs.filter((i) => i.role === 'activation').map((i) => i.shape.join('×')).join(', ');
}

async function runBench(opts: BenchOptions, log: (s: string) => void): Promise<{ adapter: string; peakGflops: number; rows: BenchRow[]; regions: RegionBenchRow[]; train: TrainBenchRow[]; ewa: EwaBenchRow[]; steps: StepBenchRow[]; whole: WholeBenchRow[] }> {
  const ctx = await GpuContext.create(navigator.gpu);
  const adapter = adapterLabel(ctx.handle.summary);
  log(`adapter ${adapter}`);
  const peak = await measureFmaPeak(ctx);
  log(`f32 FMA peak ${peak.gflops.toFixed(1)} GFLOP/s (${peak.iters} loops, ${peak.ms.toFixed(1)} ms)`);
  const rows: BenchRow[] = [];
  const regions: RegionBenchRow[] = [];
  const train: TrainBenchRow[] = [];
  const ewa: EwaBenchRow[] = [];
  const steps: StepBenchRow[] = [];
  const whole: WholeBenchRow[] = [];
  for (const suite of opts.suites) {
    // one whole UNet step (SDXL-base 1024² with --full): GFLOP/s, % of peak, dispatches (bench/step.ts)
    if (suite === 'step') {
      steps.push(...(await runStepBench(ctx, { size: opts.size, maxRuns: opts.maxRuns, peakGflops: peak.gflops }, log)));
      continue;
    }
    // regional synthesis has no peer: its cost is measured against our own plain step (bench/regions.ts)
    if (suite === 'regions') {
      regions.push(...(await runRegionsBench(ctx, opts.maxRuns, log)));
      continue;
    }
    // EWA: fold per prompt and the step on folded weights with 1/10/50 concepts, no peer (bench/ewa.ts)
    if (suite === 'ewa') {
      ewa.push(...(await runEwaBench(ctx, opts.maxRuns, log)));
      continue;
    }
    // a whole 30-step CFG run against an onnxruntime-web loop with CPU-side CFG and scheduler (bench/whole.ts)
    if (suite === 'whole') {
      whole.push(...(await runWholeBench(ctx, log)));
      continue;
    }
    // training step vs forward, no peer either (bench/train.ts)
    if (suite === 'train') {
      train.push(...(await runTrainBench(ctx, { size: opts.size, maxRuns: opts.maxRuns, profile: opts.profile }, log)));
      continue;
    }
    for (const c of ALL_CASES[suite] ?? []) {
      const name = opts.size === 'small' && !c.model.startsWith('tiny_') ? `${c.model}_small` : c.model;
      const meta = (await (await fetch(`/bench/models/${name}.json`)).json()) as Sidecar;
      const data: Record<string, Float32Array> = c.inputs?.(meta) ?? {};
      if (!c.inputs) meta.inputs.forEach((input, i) => (data[input.name] = makeInput(input, 1234 + i)));
      const shapes = Object.fromEntries(meta.inputs.map((i) => [i.name, i.shape.map((d) => (typeof d === 'number' ? d : 2))]));

      const peer = await createPeer(ctx.device, meta, data, `/bench/models/${name}.onnx`);
      const peerTiming = await timeRuns(() => peer.run(), opts.maxRuns);
      const peerOut = await peer.output();
      await peer.dispose();
      log(`${name} peer ${peerTiming.medianMs.toFixed(1)} ms`);

      const tensors: Record<string, ReturnType<GpuContext['upload']>> = {};
      for (const input of meta.inputs) tensors[input.name] = ctx.upload(data[input.name]!, shapes[input.name]!, 'f32', input.name);
      for (const [variant, impl] of Object.entries(c.variants)) {
        if (opts.variants && !opts.variants.includes(variant)) continue;
        let last: ReturnType<GpuContext['upload']> | null = null;
        const timing = await timeRuns(async () => {
          if (last) ctx.release(last);
          last = await impl(ctx, tensors);
          await ctx.flush();
        }, opts.maxRuns);
        const ours = await ctx.read(last!);
        ctx.release(last!);
        const diff = maxAbsDiff(ours, peerOut);
        const row: BenchRow = {
          op: c.op,
          model: name,
          shape: shapeOf(meta),
          variant,
          oursMs: timing.medianMs,
          peerMs: peerTiming.medianMs,
          gflops: meta.flops / timing.medianMs / 1e6,
          pctPeak: (100 * meta.flops) / timing.medianMs / 1e6 / peak.gflops,
          ratio: peerTiming.medianMs / timing.medianMs,
          maxAbsVsPeer: diff.maxAbs,
          outputScale: diff.scale,
        };
        rows.push(row);
        log(`${name} ${variant} ${row.oursMs.toFixed(1)} ms (${row.ratio.toFixed(2)}x peer) max|Δ|=${diff.maxAbs.toExponential(2)}`);
      }
      ctx.release(...Object.values(tensors));
      ctx.pool.trim();
    }
  }
  ctx.destroy();
  return { adapter, peakGflops: peak.gflops, rows, regions, train, ewa, steps, whole };
}

const logEl = document.getElementById('log')!;
const log = (s: string) => {
  logEl.textContent += `\n${s}`;
  console.log(`[bench] ${s}`);
};
logEl.textContent = 'ready';
(window as unknown as { __bench: unknown }).__bench = { run: (o: BenchOptions) => runBench(o, log) };
