import { describe, expect, it } from 'vitest';
import type { Concept } from '../../cidm/concepts/concept';
import type { ConceptSummary } from '../../storage/concepts/record';
import { libraryVersionKey, syncEngineConcepts, type SyncDeps } from './engine-sync';

function summary(id: string, taskIndex: number, o: Partial<ConceptSummary> = {}): ConceptSummary {
  return {
    id,
    name: `c ${id}`,
    classWord: 'dog',
    placeholders: [`<${id}1>`],
    taskIndex,
    layers: 2,
    rank: 1,
    tokenWidths: [2],
    hyper: { steps: 1, lrLora: 0, lrTokens: 0, rank: 1, seed: 0, resolution: 64, masked: false, gamma: 0, r1Form: 'code' },
    modelId: 'm',
    createdAt: 1000 + taskIndex,
    thumbnails: [],
    samples: [],
    lossCurve: [],
    tensorBytes: 40,
    ...o,
  };
}

const full = (s: ConceptSummary): Concept & { thumbnails: Blob[] } => ({
  ...s,
  tokens: [new Float32Array(4)],
  lora: new Map([['m.to_q', { down: new Float32Array(2), up: new Float32Array(2), inFeatures: 2, outFeatures: 2 }]]),
  thumbnails: [],
});

describe('libraryVersionKey', () => {
  it('does not depend on the listing order or on names', () => {
    const a = summary('a', 1);
    const b = summary('b', 2);
    expect(libraryVersionKey([b, a])).toBe(libraryVersionKey([a, b]));
    expect(libraryVersionKey([a, { ...b, name: 'renamed' }])).toBe(libraryVersionKey([a, b]));
  });
  it('changes with a concept added, removed, re-trained, re-ordered or re-worded', () => {
    const a = summary('a', 1);
    const b = summary('b', 2);
    const base = libraryVersionKey([a, b]);
    expect(libraryVersionKey([a])).not.toBe(base);
    expect(libraryVersionKey([a, b, summary('c', 3)])).not.toBe(base);
    expect(libraryVersionKey([a, { ...b, createdAt: 5 }])).not.toBe(base);
    expect(libraryVersionKey([a, { ...b, taskIndex: 0 }])).not.toBe(base);
    expect(libraryVersionKey([a, { ...b, placeholders: ['<x>'] }])).not.toBe(base);
    expect(libraryVersionKey([a, { ...b, tensorBytes: 44 }])).not.toBe(base);
    expect(libraryVersionKey([])).toBe('');
  });
});

describe('syncEngineConcepts', () => {
  function setup(initial: ConceptSummary[]) {
    let lib = initial;
    const reads: string[] = [];
    const sent: Concept[][] = [];
    const deps: SyncDeps = {
      list: async (modelId) => lib.filter((c) => c.modelId === modelId),
      get: async (id) => {
        reads.push(id);
        const s = lib.find((c) => c.id === id);
        return s && full(s);
      },
    };
    const engine = { setConcepts: async (c: Concept[]) => (sent.push(c), { count: c.length }) };
    return { deps, engine, reads, sent, set: (l: ConceptSummary[]) => (lib = l) };
  }

  it('sends the tensors in task order, without media, only when the library changed', async () => {
    const t = setup([summary('b', 2), summary('a', 1), summary('z', 1, { modelId: 'other' })]);
    t.set([summary('a', 1), summary('b', 2), summary('z', 1, { modelId: 'other' })]);
    const r1 = await syncEngineConcepts(t.engine, 'm', t.deps);
    expect(r1).toMatchObject({ count: 2, sent: true });
    expect(t.sent[0]!.map((c) => c.id)).toEqual(['a', 'b']);
    expect('thumbnails' in t.sent[0]![0]!).toBe(false);
    expect(t.reads).toEqual(['a', 'b']);

    const r2 = await syncEngineConcepts(t.engine, 'm', t.deps);
    expect(r2).toMatchObject({ count: 2, sent: false, version: r1.version });
    expect(t.sent).toHaveLength(1);
    expect(t.reads).toEqual(['a', 'b']); // no tensors read again

    t.set([summary('a', 1)]);
    expect(await syncEngineConcepts(t.engine, 'm', t.deps)).toMatchObject({ count: 1, sent: true });
    expect(t.sent[1]!.map((c) => c.id)).toEqual(['a']);
  });

  it('another model, or another engine, gets its own send; an empty library clears', async () => {
    const t = setup([summary('a', 1), summary('z', 1, { modelId: 'other' })]);
    await syncEngineConcepts(t.engine, 'm', t.deps);
    await syncEngineConcepts(t.engine, 'other', t.deps);
    expect(t.sent.map((s) => s.map((c) => c.id))).toEqual([['a'], ['z']]);
    const engine2 = { setConcepts: async (c: Concept[]) => (t.sent.push(c), { count: c.length }) };
    await syncEngineConcepts(engine2, 'other', t.deps);
    expect(t.sent).toHaveLength(3);
    await syncEngineConcepts(t.engine, 'none', t.deps);
    expect(t.sent[3]).toEqual([]);
  });

  it('a failed send is retried by the next sync; concurrent syncs send once', async () => {
    const t = setup([summary('a', 1)]);
    let fail = true;
    const engine = { setConcepts: async (c: Concept[]) => {
      if (fail) throw new Error('worker gone');
      t.sent.push(c);
      return { count: c.length };
    } };
    await expect(syncEngineConcepts(engine, 'm', t.deps)).rejects.toThrow('worker gone');
    fail = false;
    const [x, y] = await Promise.all([syncEngineConcepts(engine, 'm', t.deps), syncEngineConcepts(engine, 'm', t.deps)]);
    expect([x.sent, y.sent]).toEqual([true, false]);
    expect(t.sent).toHaveLength(1);
  });
});
