/**
 * The noise-source choice (noise-source.ts) and its wiring into the sampling loop (text-to-image.ts):
 * with 'torch-cpu' the initial latents and each Euler-ancestral step's noise are torch 1.13.1's own
 * `torch.randn` from one generator, in diffusers' order (src/golden/fixtures/torch-randn.json); the
 * default stays the studio's streams (rng.ts), so existing images do not change.
 *
 * The loop runs on the CPU here: a fake GPU context and a plugged-in predictor (zero noise estimate)
 * stand in for the UNet, so only the latents' path is exercised.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { runNoise } from './noise-source';
import { initialNoise, stepNoise } from './rng';
import { createScheduler, type SchedulerConfig } from './schedulers';
import { textToImage, type GuidedPredictorFactory, type SdxlPipelineParts, type StepRecord } from './text-to-image';

interface RandnCase {
  seed: string;
  shape: number[];
  values?: number[];
}
const fixture = JSON.parse(readFileSync(join(__dirname, '../golden/fixtures/torch-randn.json'), 'utf8')) as { cases: RandnCase[] };
const reference = (seed: string, shape: number[]) => Float32Array.from(fixture.cases.find((c) => c.seed === seed && `${c.shape}` === `${shape}`)!.values!);
// torch draws each 16-value Box–Muller block from its own 16 uniforms, so randn(3072) from a fresh
// generator is randn(256) followed by the next randn(256) calls: the reference for the step noise.
const SEED = 42;
const LATENTS = reference('42', [1, 4, 8, 8]); // [1, 4, 8, 8]: a 64×64 image
const STREAM = reference('42', [2, 4, 16, 24]); // 3,072 values = the latents and 11 more draws of 256
const N = 256;

describe('runNoise', () => {
  it("'torch-cpu': the latents, then each step's noise, continue one torch generator", () => {
    const rng = runNoise('torch-cpu', SEED);
    expect(rng.initial(N)).toEqual(LATENTS);
    for (let i = 0; i < 3; i++) expect(rng.step(i, N), `step ${i}`).toEqual(STREAM.subarray(N * (i + 1), N * (i + 2)));
  });

  it("'studio' is the studio's own streams, unchanged", () => {
    const rng = runNoise('studio', SEED);
    expect(rng.initial(N)).toEqual(initialNoise(SEED, N));
    expect(rng.step(3, N)).toEqual(stepNoise(SEED, 3, N));
  });

  it('refuses an unknown source and torch steps out of order, by name', () => {
    expect(() => runNoise('gpu' as never, 0)).toThrow(/unknown noise source "gpu"/);
    const rng = runNoise('torch-cpu', 0);
    rng.initial(N);
    expect(() => rng.step(1, N)).toThrow(/step 1 requested, expected step 0/);
  });
});

/** A GPU context that only holds arrays: enough for the loop when a predictor replaces the UNet. */
function cpuParts(schedulerConfig: SchedulerConfig): SdxlPipelineParts {
  const tensor = (shape: number[]) => ({ shape, dtype: 'f32' }) as unknown as Tensor;
  const ctx = {
    upload: (_d: ArrayLike<number>, shape: number[]) => tensor(shape),
    read: async (t: Tensor) => new Float32Array(t.shape.reduce((a, b) => a * b, 1)),
    release: () => undefined,
    isLive: () => true,
  } as unknown as GpuContext;
  return {
    ctx,
    dtype: 'f32',
    unetArch: { inChannels: 4, outChannels: 4 } as SdxlPipelineParts['unetArch'],
    unet: {} as SdxlPipelineParts['unet'],
    schedulerConfig,
    forceZerosForEmptyPrompt: true,
    vaeScalingFactor: 0.13025,
    latentFactor: 8,
    vaeDtype: 'f32',
    encodePrompt: async () => ({ embeds: tensor([1, 77, 8]), pooled: tensor([1, 8]) }),
    decode: async () => tensor([1, 3, 64, 64]),
  };
}

/** The plugged-in noise estimate: zero, so each step's result is the scheduler's own function of the noise. */
const zeroEps: GuidedPredictorFactory = {
  needsUncond: false,
  create: async () => ({ batch: 1, predict: async () => new Float32Array(N), combine: (p) => p, release: () => undefined }),
};

describe('textToImage noise source', () => {
  const config = JSON.parse(readFileSync(join(__dirname, '../../golden/models/scheduler/scheduler_config.json'), 'utf8')) as SchedulerConfig;
  const params = { prompt: 'a corgi', width: 64, height: 64, steps: 3, guidanceScale: 1, scheduler: 'euler_ancestral' as const, seed: SEED };

  /** The loop's latents after every step, with `initial` as x_T and `noise(i)` as step i's fresh noise. */
  const expected = (initial: Float32Array, noise: (i: number) => Float32Array) => {
    const s = createScheduler('euler_ancestral', config, params.steps);
    let x: Float32Array = initial.map((v) => v * s.initNoiseSigma);
    return s.timesteps.map((_, i) => (x = s.step(new Float32Array(N), i, x, noise(i))));
  };
  const run = async (noiseSource?: 'studio' | 'torch-cpu') => {
    const steps: StepRecord[] = [];
    const r = await textToImage(cpuParts(config), { ...params, ...(noiseSource ? { noiseSource } : {}) }, { predictor: zeroEps, previewEvery: 0, observer: { step: (s) => steps.push(s) } });
    return { steps: steps.map((s) => s.latentsAfter), latents: r.latents };
  };

  it("'torch-cpu': x_T and every ancestral step's noise are torch.randn from one generator (diffusers' order)", async () => {
    const { steps, latents } = await run('torch-cpu');
    const want = expected(LATENTS, (i) => STREAM.slice(N * (i + 1), N * (i + 2)));
    expect(steps).toEqual(want);
    expect(latents).toEqual(want.at(-1));
  });

  it("no noiseSource: the studio's noise, as before", async () => {
    const { steps } = await run();
    expect(steps).toEqual(expected(initialNoise(SEED, N), (i) => stepNoise(SEED, i, N)));
    expect((await run('studio')).steps).toEqual(steps);
  });
});
