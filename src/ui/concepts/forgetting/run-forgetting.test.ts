import { describe, expect, it } from 'vitest';
import type { ForgettingJobSpec, ForgettingResult, RgbaImage } from '../../../engine/protocol';
import type { ConceptSummary } from '../../../storage/concepts/record';
import { FORGETTING_SEED, NothingToScoreError, runForgetting, type ForgettingPhase, type RunForgettingDeps } from './run-forgetting';

const hyper = { steps: 10, lrLora: 1e-4, lrTokens: 1e-3, rank: 4, seed: 1, resolution: 8, masked: false, gamma: 0.1, r1Form: 'code' as const };
const concept = (id: string, taskIndex: number, photos: number): ConceptSummary => ({
  id, name: id.toUpperCase(), classWord: 'dog', placeholders: [`<${id}>`], taskIndex, layers: 1, rank: 4, tokenWidths: [2], hyper, modelId: 'm', createdAt: taskIndex,
  thumbnails: [], samples: [], lossCurve: [], tensorBytes: 8,
  ...(photos ? { trainingPhotos: Array.from({ length: photos }, () => ({ image: new Blob(['x']), mask: null })) } : {}),
});
const decode = async (_b: Blob, size: number): Promise<RgbaImage> => ({ width: size, height: size, rgba: new Uint8ClampedArray(size * size * 4) });

function deps(concepts: ConceptSummary[]) {
  const calls: string[] = [];
  let spec: ForgettingJobSpec | null = null;
  const d: RunForgettingDeps = {
    list: async () => concepts,
    sync: async () => (calls.push('sync'), { count: concepts.length, sent: true, version: 'v1' }),
    decode,
    now: () => 42,
    engine: {
      load: async (ref, precision) => (calls.push(`load ${ref.id} ${precision}`), { id: ref.id, dtype: 'f32', gpuBytes: 0, loadMs: 0 }),
      forgetting: async (s, o) => {
        calls.push('forgetting');
        spec = s;
        o?.onProgress?.({ status: 'forgetting', done: 1, total: 3 });
        const result: ForgettingResult = { conceptIds: concepts.map((c) => c.id), matrix: [[0.1, null], [0.12, 0.2]] };
        return result;
      },
    },
  };
  return { d, calls, spec: () => spec };
}

describe('runForgetting', () => {
  it('loads the model, sends the library, then scores the concepts that have photos', async () => {
    const lib = [concept('b', 2, 0), concept('a', 1, 2)];
    const t = deps(lib);
    const phases: ForgettingPhase[] = [];
    const e = await runForgetting(t.d, 'm', 'auto', { onPhase: (p) => phases.push(p) });
    expect(t.calls).toEqual(['load m auto', 'sync', 'forgetting']);
    const spec = t.spec()!;
    expect(spec.seed).toBe(FORGETTING_SEED);
    expect(spec.probes.map((p) => [p.conceptId, p.photos.length])).toEqual([['a', 2]]);
    expect(e).toMatchObject({ v: 1, modelId: 'm', version: 'v1', computedAt: 42, unscored: ['b'], names: { a: 'A', b: 'B' }, tasks: { a: 1, b: 2 } });
    expect(phases.map((p) => p.phase)).toEqual(['load', 'photos', 'scores']);
    expect(phases[2]).toEqual({ phase: 'scores', done: 1, total: 3 });
  });

  it('refuses, without touching the engine, when no concept has photos', async () => {
    const t = deps([concept('a', 1, 0)]);
    await expect(runForgetting(t.d, 'm', 'auto')).rejects.toBeInstanceOf(NothingToScoreError);
    const empty = deps([]);
    await expect(runForgetting(empty.d, 'm', 'auto')).rejects.toThrow('no concepts yet');
    expect(t.calls).toEqual([]);
  });

  it('a cancel stops before the scores are asked for', async () => {
    const t = deps([concept('a', 1, 1)]);
    const ac = new AbortController();
    t.d.sync = async () => (ac.abort(), { count: 1, sent: true, version: 'v' });
    await expect(runForgetting(t.d, 'm', 'auto', { signal: ac.signal })).rejects.toThrow();
    expect(t.calls).toEqual(['load m auto']);
  });
});
