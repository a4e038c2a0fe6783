/**
 * The engine's kernel tuning across loads (issue 15 point 4): measured at the first load on this
 * adapter, kept in the store, applied (not re-measured) by the next engine, and measured again on
 * retune. The tiny golden SDXL on the CPU adapter (where the engine measures at load only when told to).
 */
import { describe, expect, it } from 'vitest';
import { memoryTuningStore } from '../storage/tuning/tuning-store';
import { tinyEngine } from './engine-test-kit';

const MODEL = { type: 'stored', id: 'tiny' } as const;

describe('engine kernel tuning', () => {
  it('measures at the first load, reuses the stored table on the next engine, measures again on retune', async () => {
    const store = memoryTuningStore();
    const first = tinyEngine({ tuningStore: store, autotune: true });
    const progress: { done: number; total: number }[] = [];
    await first.engine.load(MODEL, 'f32', { onProgress: (p) => p.status === 'load' && p.component === 'kernel tuning' && progress.push({ done: p.done, total: p.total }) });
    const s1 = (await first.engine.status()).tuning;
    expect(s1).not.toBeNull();
    expect(s1!.problems).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    const { done, total } = progress[progress.length - 1]!;
    expect(done).toBe(s1!.problems);
    expect(store.entries.size).toBe(1);
    const table = [...store.entries.values()][0]!.table;
    // the chosen tiles are in the device's table, so every matmul of this model uses them
    for (const [k, v] of table) expect(first.ctx().tuning.get(k)).toEqual(v);
    first.engine.dispose();

    // a new engine (a new session) on the same adapter applies the table without measuring
    const second = tinyEngine({ tuningStore: store, autotune: true });
    const progress2: { done: number; total: number }[] = [];
    await second.engine.load(MODEL, 'f32', { onProgress: (p) => p.status === 'load' && p.component === 'kernel tuning' && progress2.push({ done: p.done, total: p.total }) });
    const applied = (await second.engine.status()).tuning;
    if (done === total) {
      // everything was measured within the first budget: nothing left to measure
      expect(progress2).toEqual([]);
      expect(applied).toEqual(s1);
    } else {
      // the first budget ran out: only the shapes not yet measured are measured now
      expect(progress2[0]?.total).toBe(total - done);
      expect(applied!.problems).toBeGreaterThan(s1!.problems);
    }
    for (const [k, v] of table) expect(second.ctx().tuning.get(k)).toEqual(v);

    const again = await second.engine.retune();
    expect(again).not.toBeNull();
    expect(again!.date >= s1!.date).toBe(true);
    expect([...store.entries.values()][0]!.summary).toEqual(again);
    second.engine.dispose();
  });

  it('by default a software adapter is not measured at load (only on request), and applies a stored table', async () => {
    const store = memoryTuningStore();
    const t = tinyEngine({ tuningStore: store });
    await t.engine.load(MODEL, 'f32');
    expect((await t.engine.status()).tuning).toBeNull();
    expect(t.ctx().tuning.size).toBe(0);
    const measured = await t.engine.retune();
    expect(measured?.problems).toBeGreaterThan(0);
    t.engine.dispose();
    const next = tinyEngine({ tuningStore: store });
    await next.engine.load(MODEL, 'f32');
    expect((await next.engine.status()).tuning).toEqual(measured);
    expect(next.ctx().tuning.size).toBe(measured!.problems);
    next.engine.dispose();
  });
});
