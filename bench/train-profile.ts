/**
 * Where one training step's time goes, per kernel and per phase (the forward part, then recompute +
 * backward), for `--profile`. Two methods:
 *  - 'timestamps' on a GPU with timestamp-query (src/gpu/profiler.ts): each dispatch in its own timed
 *    pass. The query set holds 2048 dispatches, so the queue is drained and the timestamps collected
 *    every DRAIN dispatches.
 *  - 'wall' on a CPU adapter (SwiftShader's timestamps leave out most of the time of kernels with many
 *    small workgroups) or without timestamp-query: the queue is drained after every op and the wall
 *    time since the previous drain goes to the kernels that op dispatched. The drains add a few ms per
 *    op there, so small ops look bigger than they are; the big ones are what the profile is for.
 * Both hook ctx.kernel (every op awaits it before it dispatches) and ctx.dispatch on the instance, and
 * remove the hooks afterwards.
 */
import type { GpuContext } from '../src/gpu/context';
import type { KernelTiming } from '../src/gpu/profiler';
import { sync } from './train-util';

export interface KernelShare {
  phase: 'forward' | 'backward';
  kernel: string;
  ms: number;
  count: number;
}

export interface StepProfile {
  method: 'timestamps' | 'wall';
  kernels: KernelShare[];
}

const DRAIN = 1024;

export async function profileStep(ctx: GpuContext, step: (mark: () => Promise<void>) => Promise<void>): Promise<StepProfile> {
  const prof = ctx.handle.summary.isFallbackAdapter ? null : ctx.profiler;
  const method: StepProfile['method'] = prof ? 'timestamps' : 'wall';
  const acc = new Map<string, KernelShare>();
  let phase: KernelShare['phase'] = 'forward';
  const add = (kernel: string, ms: number, count = 1) => {
    const key = `${phase}/${kernel}`;
    const e = acc.get(key) ?? { phase, kernel, ms: 0, count: 0 };
    e.ms += ms;
    e.count += count;
    acc.set(key, e);
  };

  let names: string[] = [];
  let last = 0;
  // One drain at a time: ops compile kernels concurrently (Promise.all), and the profiler's read-back
  // buffer takes one map at a time.
  let draining: Promise<void> | null = null;
  const drain = () =>
    (draining ??= (async () => {
      await sync(ctx);
      if (prof) (await prof.collect()).forEach((t: KernelTiming) => add(t.kernel, t.ms));
      else if (names.length) {
        // an op's wall time, split evenly over the dispatches it made
        const ms = (performance.now() - last) / names.length;
        for (const n of names) add(n, ms);
      }
      names = [];
      last = performance.now();
    })().finally(() => {
      draining = null;
    }));

  const self = ctx as unknown as { kernel: GpuContext['kernel']; dispatch: GpuContext['dispatch'] };
  const kernel = ctx.kernel.bind(ctx);
  const dispatch = ctx.dispatch.bind(ctx);
  self.dispatch = (k, a) => {
    names.push(k.name);
    dispatch(k, a);
  };
  self.kernel = (async (desc: Parameters<GpuContext['kernel']>[0], variant: unknown) => {
    const k = await kernel(desc, variant);
    if (!prof || names.length >= DRAIN || draining) await drain();
    return k;
  }) as GpuContext['kernel'];
  await drain();
  if (prof) prof.enabled = true;
  try {
    await step(async () => {
      await drain();
      phase = 'backward';
    });
    await drain();
  } finally {
    if (prof) prof.enabled = false;
    delete (self as Partial<typeof self>).kernel;
    delete (self as Partial<typeof self>).dispatch;
  }
  return { method, kernels: [...acc.values()].sort((a, b) => b.ms - a.ms) };
}
