/**
 * The image-to-image wiring of the sampling loop (text-to-image.ts + image-to-image.ts), on the CPU: a
 * fake GPU context, a fake VAE encoder that returns known posterior means, and a plugged-in zero noise
 * estimate stand in for the networks, so only the latents' path is exercised. With every scheduler the
 * loop must start at get_timesteps' index from add_noise(image latents × scaling factor, x_T noise), blend
 * after every step, number the ancestral noise from the run's first step, and at strength 1 be the
 * text-to-image run of the seed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import type { HostTensor } from '../model/vae/image';
import { addNoiseCoefficients, maskToLatent } from './img2img';
import { checkUnetChannels, InpaintModelError } from './image-to-image';
import { initialNoise, stepNoise } from './rng';
import { createScheduler, SCHEDULER_KINDS, type SchedulerConfig, type SchedulerKind } from './schedulers';
import { textToImage, type GuidedPredictorFactory, type SdxlPipelineParts } from './text-to-image';

const W = 32;
const H = 16;
const N = 4 * (H / 8) * (W / 8);
const SF = 0.13025;
const MEAN = Float32Array.from({ length: N }, (_, k) => Math.sin(k) * 3);
const config = JSON.parse(readFileSync(join(__dirname, '../../golden/models/scheduler/scheduler_config.json'), 'utf8')) as SchedulerConfig;

function cpuParts(encoded: HostTensor[]): SdxlPipelineParts {
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
    schedulerConfig: config,
    forceZerosForEmptyPrompt: true,
    vaeScalingFactor: SF,
    latentFactor: 8,
    vaeDtype: 'f32',
    encodePrompt: async () => ({ embeds: tensor([1, 77, 8]), pooled: tensor([1, 8]) }),
    decode: async () => tensor([1, 3, H, W]),
    encodeImages: async (images) => {
      encoded.push(...images);
      return images.map(() => MEAN.slice());
    },
  };
}

const zeroEps: GuidedPredictorFactory = {
  needsUncond: false,
  create: async () => ({ batch: 1, predict: async () => new Float32Array(N), combine: (p) => p, release: () => undefined }),
};

const SEED = 7;
const STEPS = 5;
const rgba = Uint8ClampedArray.from({ length: W * H * 4 }, (_, k) => (k * 37) % 256);
const mask = Float32Array.from({ length: W * H }, (_, p) => (p % W >= 16 ? 1 : 0)); // right half

async function loop(kind: SchedulerKind, init?: { strength: number; mask?: Float32Array }) {
  const encoded: HostTensor[] = [];
  const steps: number[] = [];
  const r = await textToImage(
    cpuParts(encoded),
    { prompt: 'x', width: W, height: H, steps: STEPS, guidanceScale: 1, scheduler: kind, seed: SEED, ...(init ? { init: { rgba, ...init } } : {}) },
    { predictor: zeroEps, previewEvery: 0, observer: { step: (s) => steps.push(s.step) } },
  );
  return { latents: r.latents, encoded, steps };
}

/** The reference: diffusers' inpaint loop written out with the scheduler and the noise formulas. */
function reference(kind: SchedulerKind, strength: number, m: Float32Array | null): Float32Array {
  const s = createScheduler(kind, config, STEPS);
  const start = STEPS - Math.min(Math.trunc(STEPS * strength), STEPS);
  const eps = initialNoise(SEED, N);
  const x0 = MEAN.map((v) => v * SF);
  const noised = (i: number) => {
    const c = addNoiseCoefficients(s, i);
    return x0.map((v, k) => c.signal * v + c.noise * eps[k]!);
  };
  let x: Float32Array = strength === 1 ? eps.map((v) => v * s.initNoiseSigma) : noised(start);
  const lm = m ? maskToLatent(m, W, H, 8) : null;
  const end = s.timesteps.length;
  for (let i = start; i < end; i++) {
    x = s.step(new Float32Array(N), i, x, kind === 'euler_ancestral' ? stepNoise(SEED, i - start, N) : undefined);
    if (lm) {
      const proper = i + 1 < end ? noised(i + 1) : x0;
      x = x.map((v, k) => (1 - lm[k % lm.length]!) * proper[k]! + lm[k % lm.length]! * v);
    }
  }
  return x;
}

describe('textToImage with an init image (every scheduler)', () => {
  for (const kind of SCHEDULER_KINDS) {
    it(`${kind}: image to image at strength 0.6 starts at t_start from the noised image latents`, async () => {
      const { latents, encoded, steps } = await loop(kind, { strength: 0.6 });
      // 5 − int(3.0) = 2, to the schedule's end (PNDM's PLMS schedule has steps + 1 entries)
      expect(steps).toEqual(kind === 'pndm' ? [2, 3, 4, 5] : [2, 3, 4]);
      expect(encoded).toHaveLength(1);
      expect(encoded[0]!.shape).toEqual([1, 3, H, W]);
      expect(encoded[0]!.data[0]).toBeCloseTo((rgba[0]! / 255) * 2 - 1, 6);
      const want = reference(kind, 0.6, null);
      latents.forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 4));
    });

    it(`${kind}: inpainting blends the noised image back outside the mask after every step`, async () => {
      const { latents } = await loop(kind, { strength: 0.8, mask });
      const want = reference(kind, 0.8, mask);
      latents.forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 4));
      // outside the mask (left half of the latent) the last blend leaves the image latents themselves
      const lw = W / 8;
      for (let k = 0; k < N; k++) if ((k % lw) < 2) expect(latents[k]).toBeCloseTo(MEAN[k]! * SF, 6);
    });
  }

  it('strength 1 is the text-to-image run of the seed; strength 0 runs no step and returns the image latents', async () => {
    const plain = await textToImage(cpuParts([]), { prompt: 'x', width: W, height: H, steps: STEPS, guidanceScale: 1, scheduler: 'euler_ancestral', seed: SEED }, { predictor: zeroEps, previewEvery: 0 });
    expect((await loop('euler_ancestral', { strength: 1 })).latents).toEqual(plain.latents);
    const zero = await loop('dpmpp_2m', { strength: 0 });
    expect(zero.steps).toEqual([]);
    expect(zero.latents).toEqual(MEAN.map((v) => v * SF));
  });

  it('a 9-channel UNet needs an init image, other widths are refused by name', () => {
    expect(() => checkUnetChannels(9, false)).toThrow(InpaintModelError);
    expect(() => checkUnetChannels(8, true)).toThrow(/8 input channels/);
    expect(() => checkUnetChannels(9, true)).not.toThrow();
  });
});
