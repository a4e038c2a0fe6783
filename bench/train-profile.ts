/**
 * Per-kernel GPU time of one training step from timestamp queries (src/gpu/profiler.ts), split into the
 * forward part and the backward part. The profiler's query set holds 2048 dispatches, so the queue is
 * drained and the timestamps collected every DRAIN dispatches (from inside ctx.kernel, which every op
 * awaits before it dispatches). Each timed dispatch runs in its own compute pass, so the sum is a bit
 * above the untimed step; the shares are what matters.
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

const DRAIN = 1024;

export async function profileStep(ctx: GpuContext, step: (mark: () => Promise<void>) => Promise<void>): Promise<KernelShare[] | null> {
  const prof = ctx.profiler;
  if (!prof) return null;
  const acc = new Map<string, KernelShare>();
  let phase: KernelShare['phase'] = 'forward';
  let pending = 0;
  const add = (ts: KernelTiming[]) => {
    for (const t of ts) {
      const key = `${phase}/${t.kernel}`;
      const e = acc.get(key) ?? { phase, kernel: t.kernel, ms: 0, count: 0 };
      e.ms += t.ms;
      e.count++;
      acc.set(key, e);
    }
  };
  // One drain at a time: ops compile kernels concurrently (Promise.all), and the profiler's read-back
  // buffer takes one map at a time.
  let draining: Promise<void> | null = null;
  const drain = () =>
    (draining ??= (async () => {
      await sync(ctx);
      add(await prof.collect());
      pending = 0;
    })().finally(() => {
      draining = null;
    }));
  // Instance overrides of two methods, removed afterwards (the prototype's stay untouched).
  const self = ctx as unknown as { kernel: GpuContext['kernel']; dispatch: GpuContext['dispatch'] };
  const kernel = ctx.kernel.bind(ctx);
  const dispatch = ctx.dispatch.bind(ctx);
  self.dispatch = (k, a) => {
    pending++;
    dispatch(k, a);
  };
  self.kernel = (async (desc: Parameters<GpuContext['kernel']>[0], variant: unknown) => {
    const k = await kernel(desc, variant);
    if (pending >= DRAIN || draining) await drain();
    return k;
  }) as GpuContext['kernel'];
  await drain();
  prof.enabled = true;
  try {
    await step(async () => {
      await drain();
      phase = 'backward';
    });
    await drain();
  } finally {
    prof.enabled = false;
    delete (self as Partial<typeof self>).kernel;
    delete (self as Partial<typeof self>).dispatch;
  }
  return [...acc.values()].sort((a, b) => b.ms - a.ms);
}
