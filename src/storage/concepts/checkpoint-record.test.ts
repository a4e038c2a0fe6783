import { describe, expect, it } from 'vitest';
import { checkpointKey, decodeCheckpoint, encodeCheckpoint, upgradeCheckpointRecord, type TrainingCheckpoint } from './checkpoint-record';
import { CheckpointRecordError } from './errors';
import { randomValues, sameBits } from './fixtures.test-util';

interface TrainerState {
  step: number;
  tokensFrozen: boolean;
  tokensFrozenAt: number | null;
  adamSteps: Record<string, number>;
}

function checkpoint(step = 120): TrainingCheckpoint<TrainerState, { steps: number; seed: number }> {
  const group = (n: number, seed: number) => ({ param: randomValues(n, seed), expAvg: randomValues(n, seed + 1), expAvgSq: randomValues(n, seed + 2).map(Math.abs) });
  return {
    jobId: 'job-7',
    step,
    createdAt: 1_700_000_000_000,
    groups: { lora: group(1027, 1), tokens: group(193, 10) },
    trainer: { step, tokensFrozen: true, tokensFrozenAt: 97, adamSteps: { lora: step, tokens: 97 } },
    config: { steps: 800, seed: 42 },
  };
}

describe('training checkpoints', () => {
  it('encode to one v1 record of plain data and decode back bit for bit', () => {
    const c = checkpoint();
    const r = encodeCheckpoint(c);
    expect(r.v).toBe(1);
    expect(typeof r.trainerJson).toBe('string');
    expect(r.groups.lora!.param).toBeInstanceOf(ArrayBuffer);
    expect(upgradeCheckpointRecord(r)).toBe(r);
    const d = decodeCheckpoint<TrainerState, { steps: number; seed: number }>(r);
    expect(d).toEqual(c);
    for (const g of ['lora', 'tokens']) {
      for (const s of ['param', 'expAvg', 'expAvgSq'] as const) expect(sameBits(d.groups[g]![s], c.groups[g]![s])).toBe(true);
    }
    // Views of the record's buffers (a record read from IndexedDB is fresh; no 2nd copy of SDXL's ~36 MB).
    expect(d.groups.lora!.param.buffer).toBe(r.groups.lora!.param);
  });

  it('store only a view’s own values, not the whole buffer under it', () => {
    const big = randomValues(4096, 3);
    const c = checkpoint();
    c.groups.lora = { param: big.subarray(100, 164), expAvg: big.subarray(0, 64), expAvgSq: big.subarray(200, 264) };
    const r = encodeCheckpoint(c);
    expect(r.groups.lora!.param.byteLength).toBe(64 * 4);
    expect(sameBits(new Float32Array(r.groups.lora!.param), big.subarray(100, 164))).toBe(true);
  });

  it('refuse inconsistent groups, bad steps and state that is not JSON', () => {
    const c = checkpoint();
    expect(() => encodeCheckpoint({ ...c, groups: { lora: { ...c.groups.lora!, expAvg: new Float32Array(3) } } })).toThrow(/moments/);
    expect(() => encodeCheckpoint({ ...c, step: -1 })).toThrow(RangeError);
    expect(() => encodeCheckpoint({ ...c, trainer: undefined })).toThrow(/JSON/);
    const r = encodeCheckpoint(c);
    expect(() => decodeCheckpoint({ ...r, groups: { lora: { ...r.groups.lora!, expAvgSq: new ArrayBuffer(8) } } })).toThrow(CheckpointRecordError);
    expect(() => decodeCheckpoint({ ...r, configJson: '{' })).toThrow(/JSON/);
  });

  it('refuse records of a newer studio or of unknown shape', () => {
    const r = encodeCheckpoint(checkpoint());
    expect(() => upgradeCheckpointRecord({ ...r, v: 2 })).toThrow(/schema version 2/);
    expect(() => upgradeCheckpointRecord({ ...r, jobId: 5 })).toThrow(CheckpointRecordError);
    expect(() => upgradeCheckpointRecord({ ...r, groups: { lora: { param: new Float32Array(2) } } })).toThrow(/missing fields/);
    expect(() => upgradeCheckpointRecord(undefined)).toThrow(CheckpointRecordError);
  });

  it('key by [job, step] so a job’s checkpoints sort by step', () => {
    expect(checkpointKey('job-7', 120)).toEqual(['job-7', 120]);
  });
});
