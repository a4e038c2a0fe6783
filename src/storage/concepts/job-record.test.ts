import { describe, expect, it } from 'vitest';
import { compareJobs, encodeJobRecord, JobRecordError, jobRecordBytes, nextOrder, nextRunnable, upgradeJobRecord, type TrainingJobRecord } from './job-record';

const settings = { name: 'Rex', classWord: 'dog', placeholders: ['<rex1>'], captionTemplate: 'object', resolution: 512, steps: 500, rank: 4, lrLora: 1e-4, lrTokens: 1e-3, seed: 7, masked: true, checkpointEvery: 50, previewEvery: 50 };
const photo = (n: number) => ({ name: `p${n}.jpg`, png: new Uint8Array([n, 1, 2]).buffer, mask: n % 2 ? new Uint8Array([9]).buffer : null });
const job = (o: Partial<TrainingJobRecord> = {}) => encodeJobRecord({ id: 'j1', createdAt: 100, order: 1, modelId: 'm', state: 'queued', settings, photos: [photo(1), photo(2)], ...o });

describe('training job records', () => {
  it('encodes a copy of the job and reads it back unchanged (structured clone keeps the buffers)', () => {
    const s = { ...settings, placeholders: ['<rex1>'] };
    const r = encodeJobRecord({ id: 'j1', createdAt: 100, order: 1, modelId: 'm', state: 'queued', settings: s, photos: [photo(1)], taskIndex: 3, error: { name: 'E', code: 'c', message: 'm' } });
    s.placeholders.push('<x>');
    expect(r.settings.placeholders).toEqual(['<rex1>']);
    const back = upgradeJobRecord(structuredClone(r));
    expect(back).toEqual(r);
    expect(new Uint8Array(back.photos[0]!.png)).toEqual(new Uint8Array([1, 1, 2]));
    expect(back.taskIndex).toBe(3);
    expect(jobRecordBytes(r)).toBe(3 + 1 + 2048);
  });

  it('refuses a job without photos, an unknown version and a damaged record, by name', () => {
    expect(() => job({ photos: [] })).toThrow(/needs photos/);
    expect(() => upgradeJobRecord({ ...job(), v: 2 })).toThrow(JobRecordError);
    expect(() => upgradeJobRecord({ ...job(), v: 2 })).toThrow(/schema version 2/);
    expect(() => upgradeJobRecord({ ...job(), state: 'running' })).toThrow(/missing fields/);
    expect(() => upgradeJobRecord({ ...job(), settings: { ...settings, steps: 'x' } })).toThrow(/missing fields/);
    expect(() => upgradeJobRecord({ ...job(), photos: [{ name: 'a', png: 'nope', mask: null }] })).toThrow(/missing fields/);
    expect(() => upgradeJobRecord(null)).toThrow(/no id/);
  });

  it('runs jobs in queue order, one at a time; paused and failed ones wait', () => {
    const a = job({ id: 'a', order: 2 });
    const b = job({ id: 'b', order: 1, state: 'paused' });
    const c = job({ id: 'c', order: 3 });
    const d = job({ id: 'd', order: 2, createdAt: 50, state: 'failed' });
    expect([a, b, c, d].sort(compareJobs).map((j) => j.id)).toEqual(['b', 'd', 'a', 'c']);
    expect(nextRunnable([c, a, b, d])?.id).toBe('a');
    expect(nextRunnable([b, d])).toBeUndefined();
    expect(nextOrder([a, b, c, d])).toBe(4);
    expect(nextOrder([])).toBe(1);
  });
});
