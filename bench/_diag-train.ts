import { GpuContext } from '../src/gpu';
import { tinyCidmCase } from './train-cidm';
import { sync } from './train-util';

export async function run(what: string): Promise<unknown> {
  const ctx = await GpuContext.create(navigator.gpu);
  const c = await tinyCidmCase(ctx, 16);
  const dev = ctx.device as unknown as Record<string, unknown>;
  const q = ctx.device.queue as unknown as Record<string, unknown>;
  const counts: Record<string, number> = {};
  const times: Record<string, number> = {};
  const wrap = (obj: Record<string, unknown>, name: string) => {
    const orig = (obj[name] as (...a: unknown[]) => unknown).bind(obj);
    obj[name] = (...a: unknown[]) => {
      counts[name] = (counts[name] ?? 0) + 1;
      const s = performance.now();
      const r = orig(...a);
      times[name] = (times[name] ?? 0) + performance.now() - s;
      return r;
    };
  };
  const fns: Record<string, () => Promise<void>> = {
    forward: () => c.forward(),
    inference: () => c.inference(),
    step: () => c.step(async () => {}),
  };
  const out: Record<string, unknown> = {};
  for (const name of what.split(',')) {
    await fns[name]!(); await sync(ctx); // warm
    for (const k of Object.keys(counts)) delete counts[k];
    for (const k of Object.keys(times)) delete times[k];
    if (!('submit' in q && Object.hasOwn(q, 'submit'))) {
      wrap(q, 'submit'); wrap(q, 'writeBuffer'); wrap(dev, 'createBuffer'); wrap(dev, 'createBindGroup'); wrap(dev, 'createCommandEncoder');
    }
    const log: { bg: number; labels: string; done: number; at: number }[] = [];
    let bgSince = 0; let labels: string[] = [];
    const origSubmit = (q.submit as (x: unknown) => void);
    const origBG = (dev.createBindGroup as (d: { label?: string }) => unknown);
    dev.createBindGroup = (d: { label?: string }) => { bgSince++; labels.push(d.label ?? '?'); return origBG(d); };
    q.submit = (x: unknown) => { const e = { bg: bgSince, labels: [...new Set(labels)].slice(0, 6).join(','), done: 0, at: performance.now() - s }; bgSince = 0; labels = []; origSubmit(x); log.push(e); void ctx.device.queue.onSubmittedWorkDone().then(() => { e.done = performance.now() - s; }); };
    const s = performance.now();
    await fns[name]!();
    const recorded = performance.now() - s;
    await sync(ctx);
    const total = performance.now() - s;
    q.submit = origSubmit; dev.createBindGroup = origBG;
    let prev = 0; const per = log.map((e) => { const d = { ...e, gpu: e.done - Math.max(prev, e.at) }; prev = e.done; return d; }).sort((a, b) => b.gpu - a.gpu).slice(0, 12);
    out[name + '_submits'] = per;
    out[name] = { recordedMs: recorded, totalMs: total, counts: { ...counts }, times: { ...times } };
  }
  c.dispose();
  return out;
}
