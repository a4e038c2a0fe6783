import { describe, expect, it } from 'vitest';
import { ImageSizeError } from '../diffusion/sdxl-conditioning';
import { defaultTrainSteps, oldTaskOf, resolveTrainSpec, TRAIN_DEFAULTS, trainTransferables } from './train-job';
import type { TrainCheckpoint, TrainJobSpec } from './protocol';

function spec(extra: Partial<TrainJobSpec> = {}): TrainJobSpec {
  const photo = { rgba: { width: 64, height: 64, rgba: new Uint8ClampedArray(64 * 64 * 4) } };
  return { jobId: 'j1', name: 'Rex', classWord: 'dog', placeholders: ['<r1>', '<r2>'], taskIndex: 1, photos: [photo, photo], seed: 1, masked: false, resolution: 64, ...extra };
}

const state = () => ({ param: new Float32Array(2), expAvg: new Float32Array(2), expAvgSq: new Float32Array(2) });
const ckpt = (o: Partial<TrainCheckpoint> = {}): TrainCheckpoint => ({
  jobId: 'j1', step: 3, steps: 300, trainer: { step: 3, tokensFrozen: false, tokensFrozenAt: null, adamSteps: {} }, lora: state(), tokens: state(), losses: [1, 2, 3], ...o,
});

describe('training job spec', () => {
  it('default steps: 100 per photo, clamped to [200, 1000]', () => {
    expect(defaultTrainSteps(1)).toBe(200);
    expect(defaultTrainSteps(2)).toBe(200);
    expect(defaultTrainSteps(5)).toBe(500);
    expect(defaultTrainSteps(7)).toBe(700);
    expect(defaultTrainSteps(10)).toBe(1000);
    expect(defaultTrainSteps(40)).toBe(1000);
    expect(() => defaultTrainSteps(0)).toThrow(RangeError);
  });

  it('fills the defaults of spec §1.6', () => {
    const r = resolveTrainSpec(spec());
    expect(r).toEqual({ steps: 200, rank: 4, lrLora: 1e-4, lrTokens: 1e-3, checkpointEvery: 50, previewEvery: 0, previewSteps: 12, latent: 8 });
    expect(TRAIN_DEFAULTS.rank).toBe(4);
    expect(resolveTrainSpec(spec({ steps: 6, checkpointEvery: 3 }))).toMatchObject({ steps: 6, checkpointEvery: 3 });
    // a resumed job keeps its checkpoint's step count unless told otherwise
    expect(resolveTrainSpec(spec({ resume: ckpt() })).steps).toBe(300);
  });

  it('refuses bad sizes, masks, templates, numbers and foreign checkpoints', () => {
    expect(() => resolveTrainSpec(spec({ resolution: 60 }))).toThrow(ImageSizeError);
    expect(() => resolveTrainSpec(spec({ resolution: 128 }))).toThrow(/64×64; training at 128/);
    const bad = spec();
    bad.photos[0] = { ...bad.photos[0]!, mask: new Float32Array(10) };
    expect(() => resolveTrainSpec(bad)).toThrow(/mask of photo 1/);
    expect(() => resolveTrainSpec(spec({ captionTemplate: 'no slot' }))).toThrow(RangeError);
    expect(() => resolveTrainSpec(spec({ steps: 0 }))).toThrow(RangeError);
    expect(() => resolveTrainSpec(spec({ lrLora: -1 }))).toThrow(RangeError);
    expect(() => resolveTrainSpec(spec({ photos: [] }))).toThrow(RangeError);
    expect(() => resolveTrainSpec(spec({ placeholders: [] }))).toThrow(RangeError);
    expect(() => resolveTrainSpec(spec({ taskIndex: 0 }))).toThrow(RangeError);
    expect(() => resolveTrainSpec(spec({ resume: ckpt({ jobId: 'other' }) }))).toThrow(/belongs to job "other"/);
    expect(() => resolveTrainSpec(spec({ steps: 2, resume: ckpt() }))).toThrow(/step 3/);
  });

  it('old tasks from stored concepts; transferables are each buffer once', () => {
    const up = new Float32Array(8);
    const t = oldTaskOf({ lora: new Map([['m.attn2.to_q', { down: new Float32Array(4), up, inFeatures: 1, outFeatures: 2 }]]) });
    expect(t.get('m.attn2.to_q')).toBe(up);
    const c = ckpt();
    expect(trainTransferables(c)).toHaveLength(6);
    const shared = new Float32Array(4);
    expect(trainTransferables(ckpt({ lora: { param: shared, expAvg: shared, expAvgSq: new Float32Array(1) } }))).toHaveLength(5);
  });
});
