import { describe, expect, it } from 'vitest';
import type { TrainCheckpoint } from '../../../engine/protocol';
import { decodeCheckpoint, encodeCheckpoint } from '../../../storage/concepts/checkpoint-record';
import { encodeJobRecord } from '../../../storage/concepts/job-record';
import { encodePng } from '../../../storage/png/png';
import { fromStoredCheckpoint, toStoredCheckpoint, trainSpecOf, type StoredTrainCheckpoint } from './job-spec';
import { smoothLosses } from './LossChart';
import { formatEta, formatSpeed } from './JobCard';

const flat = (n: number, v: number) => ({ param: new Float32Array(n).fill(v), expAvg: new Float32Array(n).fill(v / 2), expAvgSq: new Float32Array(n).fill(v / 4) });
const ckpt: TrainCheckpoint = {
  jobId: 'j1', step: 4, steps: 10,
  trainer: { step: 4, tokensFrozen: false, tokensFrozenAt: null, adamSteps: { lora: 4, tokens: 4 } },
  lora: flat(6, 1), tokens: flat(3, 2), losses: [0.5, 0.4, 0.3, 0.2, 0.1],
};

describe('a stored job to the engine and back', () => {
  it('engine checkpoint → stored record → engine checkpoint is exact (losses up to its step)', () => {
    const stored = toStoredCheckpoint(ckpt, 123);
    expect(stored.config).toEqual({ steps: 10, losses: [0.5, 0.4, 0.3, 0.2] });
    const back = fromStoredCheckpoint(decodeCheckpoint(structuredClone(encodeCheckpoint(stored))) as StoredTrainCheckpoint);
    expect(back).toEqual({ ...ckpt, losses: [0.5, 0.4, 0.3, 0.2] });
  });

  it('a stored checkpoint without its token group is refused by name', () => {
    const s = toStoredCheckpoint(ckpt);
    delete (s.groups as Record<string, unknown>).tokens;
    expect(() => fromStoredCheckpoint(s)).toThrow(/lacks its token state/);
  });

  it('the spec carries the exact photo pixels and the mask values from their PNGs', async () => {
    const size = 4;
    const rgba = new Uint8ClampedArray(size * size * 4).map((_, i) => (i * 7) % 256);
    const grey = new Uint8ClampedArray(size * size * 4);
    for (let i = 0; i < size * size; i++) grey.set([i < 8 ? 255 : 0, i < 8 ? 255 : 0, i < 8 ? 255 : 0, 255], i * 4);
    const buf = async (a: Uint8ClampedArray) => (await encodePng(a, size, size)).slice().buffer as ArrayBuffer;
    const job = encodeJobRecord({
      id: 'j1', createdAt: 1, order: 1, modelId: 'm', state: 'queued',
      settings: { name: 'Toy', classWord: 'toy', placeholders: ['<t1>'], captionTemplate: 'object', resolution: size, steps: 10, rank: 4, lrLora: 1e-4, lrTokens: 1e-3, seed: 3, masked: true, checkpointEvery: 2, previewEvery: 1 },
      photos: [{ name: 'a.png', png: await buf(rgba), mask: await buf(grey) }, { name: 'b.png', png: await buf(rgba), mask: null }],
    });
    const spec = await trainSpecOf(job, { taskIndex: 2, oldTasks: [], resume: ckpt });
    expect(spec).toMatchObject({ jobId: 'j1', taskIndex: 2, steps: 10, seed: 3, masked: true, resolution: size, checkpointEvery: 2, previewEvery: 1, captionTemplate: 'object', placeholders: ['<t1>'] });
    expect(Array.from(spec.photos[0]!.rgba.rgba)).toEqual(Array.from(rgba));
    expect(Array.from(spec.photos[0]!.mask!)).toEqual([...Array(8).fill(1), ...Array(8).fill(0)]);
    expect(spec.photos[1]!.mask).toBeUndefined();
    expect(spec.resume).toBe(ckpt);
    await expect(trainSpecOf({ ...job, settings: { ...job.settings, resolution: 8 } }, { taskIndex: 1, oldTasks: [] })).rejects.toThrow(/is 4×4, not 8×8/);
  });

  it('loss smoothing, ETA and speed read as a person expects', () => {
    expect(smoothLosses([1, 1, 1])).toEqual([1, 1, 1]);
    const s = smoothLosses([1, 0], 0.5);
    expect(s).toEqual([1, 0.5]);
    expect(formatEta(0)).toBe('—');
    expect(formatEta(42_000)).toBe('42 s');
    expect(formatEta(125_000)).toBe('2 min 5 s');
    expect(formatEta(3_725_000)).toBe('1 h 2 min');
    expect(formatSpeed(2.5)).toBe('2.50 it/s');
    expect(formatSpeed(0.25)).toBe('4.0 s/it');
  });
});
