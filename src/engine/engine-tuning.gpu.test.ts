/**
 * The engine's kernel tuning across loads (issue 15 point 4): measured at the first load on this
 * adapter, kept in the store, applied (not re-measured) by the next engine, and measured again on
 * retune. The tiny golden SDXL on the CPU adapter.
 */
import { describe, expect, it } from 'vitest';
import { memoryTuningStore } from '../storage/tuning/tuning-store';
import { tinyEngine } from './engine-test-kit';

const MODEL = { type: 'stored', id: 'tiny' } as const;

describe('engine kernel tuning', () => {
  it('measures at the first load, reuses the stored table on the next engine, measures again on retune', async () => {
    const store = memoryTuningStore();
    const first = tinyEngine({ tuningStore: store });
    const progress: string[] = [];
    await first.engine.load(MODEL, 'f32', { onProgress: (p) => p.status === 'load' && progress.push(p.component) });
    const s1 = (await first.engine.status()).tuning;
    expect(s1).not.toBeNull();
    expect(s1!.problems).toBeGreaterThan(0);
    expect(progress).toContain('kernel tuning');
    expect(store.entries.size).toBe(1);
    const table = [...store.entries.values()][0]!.table;
    // the chosen tiles are in the device's table, so every matmul of this model uses them
    for (const [k, v] of table) expect(first.ctx().tuning.get(k)).toEqual(v);
    first.engine.dispose();

    // a new engine (a new session) on the same adapter applies the table without measuring
    const second = tinyEngine({ tuningStore: store });
    const progress2: string[] = [];
    await second.engine.load(MODEL, 'f32', { onProgress: (p) => p.status === 'load' && progress2.push(p.component) });
    const applied = (await second.engine.status()).tuning;
    if (s1!.problems === table.length && table.length > 0) {
      // everything was measured within the first budget: nothing left to measure
      expect(progress2).not.toContain('kernel tuning');
      expect(applied).toEqual(s1);
    }
    for (const [k, v] of table) expect(second.ctx().tuning.get(k)).toEqual(v);

    const again = await second.engine.retune();
    expect(again).not.toBeNull();
    expect(again!.date >= s1!.date).toBe(true);
    expect([...store.entries.values()][0]!.summary).toEqual(again);
    second.engine.dispose();
  });

  it('autotune: false keeps the built-in heuristics', async () => {
    const t = tinyEngine({ autotune: false });
    await t.engine.load(MODEL, 'f32');
    expect((await t.engine.status()).tuning).toBeNull();
    expect(t.ctx().tuning.size).toBe(0);
    t.engine.dispose();
  });
});
