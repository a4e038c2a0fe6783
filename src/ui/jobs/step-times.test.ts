import { describe, expect, it } from 'vitest';
import { adapterDefaults, estimateRun, isCpuAdapter, recordRun, smallerSetting, stepTimeKey, type StepTimeTable } from './step-times';

const A = 'google/swiftshader/';
const key = (w: number, h: number, model = 'm1') => stepTimeKey(A, model, w, h);

describe('step-time estimates', () => {
  it('records the mean step time and the fixed cost, then averages new runs in', () => {
    let t: StepTimeTable = {};
    t = recordRun(t, key(512, 512), { steps: 10, stepsMs: 20_000, otherMs: 3000 });
    expect(t[key(512, 512)]).toEqual({ msPerStep: 2000, fixedMs: 3000, runs: 1 });
    t = recordRun(t, key(512, 512), { steps: 20, stepsMs: 20_000, otherMs: 1000 });
    expect(t[key(512, 512)]).toEqual({ msPerStep: 1500, fixedMs: 2000, runs: 2 });
    // a run that compiled kernels does not count once warm runs are known
    expect(recordRun(t, key(512, 512), { steps: 10, stepsMs: 90_000, otherMs: 9000, compiled: true })).toBe(t);
    // a run that never reached a step teaches nothing
    expect(recordRun(t, key(512, 512), { steps: 0, stepsMs: 0, otherMs: 10 })).toBe(t);
  });

  it('keeps a compiling run only until the first warm run replaces it', () => {
    let t: StepTimeTable = recordRun({}, key(64, 48), { steps: 2, stepsMs: 40_000, otherMs: 15_000, compiled: true });
    expect(t[key(64, 48)]).toEqual({ msPerStep: 20_000, fixedMs: 15_000, runs: 0 });
    t = recordRun(t, key(64, 48), { steps: 10, stepsMs: 5000, otherMs: 500 });
    expect(t[key(64, 48)]).toEqual({ msPerStep: 500, fixedMs: 500, runs: 1 });
  });

  it('estimates a measured size as steps × step time + fixed cost, per image', () => {
    const t = recordRun({}, key(512, 512), { steps: 10, stepsMs: 20_000, otherMs: 3000 });
    // 30 steps × 2 s + 3 s = 63 s per image, two images
    expect(estimateRun(t, { adapter: A, modelId: 'm1', width: 512, height: 512, steps: 30, images: 2 })).toEqual({ seconds: 126, basis: 'measured' });
  });

  it('scales from the nearest measured size of the same model, more than linearly when larger', () => {
    const t = recordRun(recordRun({}, key(512, 512), { steps: 10, stepsMs: 10_000, otherMs: 0 }), key(256, 256), { steps: 10, stepsMs: 100, otherMs: 0 });
    const e = estimateRun(t, { adapter: A, modelId: 'm1', width: 1024, height: 1024, steps: 10, images: 1 })!;
    expect(e.basis).toBe('scaled');
    // from 512² (the nearest): 4× the pixels → 4^1.15 × 10 s
    expect(e.seconds).toBeCloseTo(10 * 4 ** 1.15, 6);
    const small = estimateRun(t, { adapter: A, modelId: 'm1', width: 128, height: 128, steps: 10, images: 1 })!;
    expect(small.seconds).toBeCloseTo(0.1 / 4, 6);
  });

  it('has no estimate for another model or adapter', () => {
    const t = recordRun({}, key(512, 512), { steps: 10, stepsMs: 10_000, otherMs: 0 });
    expect(estimateRun(t, { adapter: A, modelId: 'm2', width: 512, height: 512, steps: 10, images: 1 })).toBeNull();
    expect(estimateRun(t, { adapter: 'nvidia/ada/', modelId: 'm1', width: 512, height: 512, steps: 10, images: 1 })).toBeNull();
  });
});

describe('the smaller setting', () => {
  // 1 ms per step per 1000 pixels, linear (a stand-in adapter)
  const est = (s: { width: number; height: number; steps: number }) => (s.width * s.height * s.steps) / 1e6;

  it('cuts steps first, then halves the sides on the latent grid until the run fits', () => {
    // 1024² × 30 steps = 31.5 s; limit 5 s: 20 steps (21 s) → 512² (5.2 s) → 256² (1.3 s)
    expect(smallerSetting({ width: 1024, height: 1024, steps: 30 }, est, { factor: 8, minSide: 64, limitSeconds: 5 })).toEqual({ width: 256, height: 256, steps: 20 });
    expect(smallerSetting({ width: 1024, height: 1024, steps: 30 }, est, { factor: 8, minSide: 64, limitSeconds: 22 })).toEqual({ width: 1024, height: 1024, steps: 20 });
  });

  it('keeps the aspect and the latent factor', () => {
    const s = smallerSetting({ width: 1216, height: 832, steps: 20 }, est, { factor: 8, minSide: 64, limitSeconds: 6 })!;
    expect(s).toEqual({ width: 608, height: 416, steps: 20 });
    expect(s.width % 8).toBe(0);
  });

  it('says null when nothing smaller exists', () => {
    expect(smallerSetting({ width: 64, height: 48, steps: 4 }, est, { factor: 8, minSide: 16 })).toBeNull();
  });
});

describe('per-adapter defaults', () => {
  const gpu = { vendor: 'nvidia', architecture: 'ada', device: '', description: 'RTX 4090', isFallbackAdapter: false };
  it('detects software adapters from the adapter info', () => {
    expect(isCpuAdapter({ ...gpu, vendor: 'google', architecture: 'swiftshader', description: '' })).toBe(true);
    expect(isCpuAdapter({ ...gpu, vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isCpuAdapter({ ...gpu, isFallbackAdapter: true })).toBe(true);
    expect(isCpuAdapter(gpu)).toBe(false);
  });
  it('starts a CPU adapter small and short; a GPU keeps the model defaults', () => {
    expect(adapterDefaults({ ...gpu, architecture: 'swiftshader' })).toEqual({ width: 512, height: 512, steps: 12 });
    expect(adapterDefaults(gpu)).toBeNull();
  });
});
