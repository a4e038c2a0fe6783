import { GpuContext } from '../src/gpu';
import { tinyCidmCase } from './train-cidm';
import { sync } from './train-util';

export async function run(what: string): Promise<unknown> {
  const ctx = await GpuContext.create(navigator.gpu);
  const c = await tinyCidmCase(ctx, 16);
  const dev = ctx.device as unknown as Record<string, unknown>;
  const fns: Record<string, () => Promise<void>> = { forward: () => c.forward(), inference: () => c.inference(), step: () => c.step(async () => {}) };
  const out: Record<string, unknown> = {};
  for (const name of what.split(',')) {
    await fns[name]!(); await sync(ctx);
    const acc = new Map<string, { ms: number; n: number }>();
    let labels: string[] = [];
    const origBG = dev.createBindGroup as (d: { label?: string }) => unknown;
    const sd = ctx as unknown as { dispatch: GpuContext['dispatch'] };
    const disp = ctx.dispatch.bind(ctx);
    sd.dispatch = (k, a) => { labels.push(`${k.name}[${a.workgroups.join('x')}]{${a.bindings.map((b) => b.size ?? '').join(',')}}`); disp(k, a); };
    const self = ctx as unknown as { kernel: GpuContext['kernel'] };
    const kernel = ctx.kernel.bind(ctx);
    let last = performance.now();
    const attribute = async () => {
      await sync(ctx);
      const now = performance.now();
      const key = labels.length ? labels.join('+') : '(none)';
      const e = acc.get(key) ?? { ms: 0, n: 0 }; e.ms += now - last; e.n++; acc.set(key, e);
      labels = []; last = performance.now();
    };
    self.kernel = (async (d: Parameters<GpuContext['kernel']>[0], v: unknown) => { const k = await kernel(d, v); await attribute(); return k; }) as GpuContext['kernel'];
    const s = performance.now();
    await fns[name]!();
    await attribute();
    const total = performance.now() - s;
    delete (self as Partial<typeof self>).kernel; delete (sd as Partial<typeof sd>).dispatch;
    out[name] = { total, top: [...acc.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40).map(([k, v]) => `${k}: ${v.ms.toFixed(0)} ms ×${v.n}`) };
  }
  c.dispose();
  return out;
}
