/**
 * The adapter's measured f32 FMA peak (issue 15 point 5): the bench reports each row's GFLOP/s as a
 * share of it, so a number from SwiftShader and one from an H100 read alike. The kernel
 * (shaders/fma_peak.wgsl) runs independent vec4 FMA chains with no memory traffic; the loop count
 * doubles until one run takes ≥ 100 ms (timer resolution and launch cost then weigh < 1%), and the
 * best of three runs is taken, as peak-FLOP microbenchmarks do (e.g. clpeak, gpu-burn).
 */
import type { GpuContext } from '../src/gpu';
import type { KernelDescriptor } from '../src/gpu/kernel';
import { binding } from '../src/gpu/tensor';
import source from '../shaders/fma_peak.wgsl?raw';

const fmaPeakKernel: KernelDescriptor<Record<string, never>> = { name: 'fma_peak', source, defines: () => ({}) };

const WORKGROUP = 256;
const WORKGROUPS = 4096;
const CHAINS = 8; // shaders/fma_peak.wgsl
const FLOPS_PER_ITER = WORKGROUP * WORKGROUPS * CHAINS * 4 * 2;

export interface PeakMeasure {
  gflops: number;
  iters: number;
  ms: number;
}

export async function measureFmaPeak(ctx: GpuContext): Promise<PeakMeasure> {
  const k = await ctx.kernel(fmaPeakKernel, {});
  const sink = ctx.empty([WORKGROUP * WORKGROUPS], 'f32', 'fma-peak-sink');
  const run = async (iters: number) => {
    const t0 = performance.now();
    ctx.dispatch(k, { uniforms: { iters, seed: 0.5 }, bindings: [binding(sink)], workgroups: [WORKGROUPS] });
    await ctx.flush();
    return performance.now() - t0;
  };
  try {
    let iters = 4;
    let ms = await run(iters); // the first run also compiles
    while (ms < 100 && iters < 1 << 20) {
      iters *= 2;
      ms = await run(iters);
    }
    const best = Math.min(ms, await run(iters), await run(iters));
    const check = await ctx.read(sink);
    if (!check.every(Number.isFinite)) throw new Error('fma_peak: the kernel produced non-finite values');
    return { gflops: (FLOPS_PER_ITER * iters) / best / 1e6, iters, ms: best };
  } finally {
    ctx.release(sink);
  }
}
