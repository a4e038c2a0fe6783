/**
 * One test per rule of img2img.ts, each against a reference written here from diffusers 0.25.1's
 * formulas (get_timesteps, add_noise of each scheduler, the inpaint blend, the mask's binarize +
 * nearest downsampling, the paste-back), not against the code under test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alphasCumprod, type SchedulerConfig } from './schedulers/common';
import { createScheduler, SCHEDULER_KINDS } from './schedulers';
import {
  addNoiseCoefficients,
  blurMask,
  EditParamsError,
  inpaintBlend,
  inpaintUnetInput,
  maskedImage,
  maskToLatent,
  noisedStart,
  pasteOutside,
  strengthStartIndex,
} from './img2img';

const config = JSON.parse(readFileSync(join(__dirname, '../../golden/models/scheduler/scheduler_config.json'), 'utf8')) as SchedulerConfig;
const seq = (n: number, f: (k: number) => number) => Float32Array.from({ length: n }, (_, k) => f(k));

describe('strengthStartIndex (get_timesteps)', () => {
  it('t_start = steps − min(int(steps·strength), steps), int() truncating the float product', () => {
    // by hand: 30·0.3 = 9 → 21; 10·0.7 = 7.000000000000001 → 7 → 3; 10·0.29 = 2.9 → 2 → 8; 4·0.2 = 0.8 → 0 → 4 (no step)
    expect(strengthStartIndex(30, 0.3)).toBe(21);
    expect(strengthStartIndex(10, 0.7)).toBe(3);
    expect(strengthStartIndex(10, 0.29)).toBe(8);
    expect(strengthStartIndex(4, 0.2)).toBe(4);
    expect(strengthStartIndex(25, 1)).toBe(0);
    expect(strengthStartIndex(25, 0)).toBe(25);
    expect(() => strengthStartIndex(10, 1.5)).toThrow(EditParamsError);
    expect(() => strengthStartIndex(10, NaN)).toThrow(/strength must be from 0 to 1/);
  });
});

describe('addNoiseCoefficients (scheduler.add_noise at the step index)', () => {
  const ac = alphasCumprod(config);
  it('DDIM and DPM++ (leading, integer timesteps) are the VP form √ᾱ_t·x0 + √(1 − ᾱ_t)·ε', () => {
    for (const kind of ['ddim', 'dpmpp_2m'] as const) {
      const s = createScheduler(kind, config, 10);
      for (const i of [0, 4, 9]) {
        const a = ac[s.timesteps[i]!]!;
        const c = addNoiseCoefficients(s, i);
        expect(c.signal, `${kind} ${i}`).toBeCloseTo(Math.sqrt(a), 6);
        expect(c.noise, `${kind} ${i}`).toBeCloseTo(Math.sqrt(1 - a), 6);
      }
    }
  });

  it('Euler and Euler a are the VE form x0 + σ_t·ε, σ_t = √((1 − ᾱ_t)/ᾱ_t)', () => {
    for (const kind of ['euler', 'euler_ancestral'] as const) {
      const s = createScheduler(kind, config, 10);
      for (const i of [0, 5, 9]) {
        const a = ac[s.timesteps[i]!]!;
        const c = addNoiseCoefficients(s, i);
        expect(c.signal).toBe(1);
        expect(c.noise / Math.sqrt((1 - a) / a), `${kind} ${i}`).toBeCloseTo(1, 6);
      }
    }
  });
});

describe('noisedStart (prepare_latents)', () => {
  const x0 = seq(16, (k) => Math.sin(k));
  const eps = seq(16, (k) => Math.cos(3 * k));
  it('strength 1: pure noise × init_noise_sigma, whatever the image', () => {
    for (const kind of SCHEDULER_KINDS) {
      const s = createScheduler(kind, config, 8);
      expect(noisedStart(x0, eps, 1, s, 0)).toEqual(eps.map((v) => v * s.initNoiseSigma));
    }
  });
  it('no step left (strength 0): the image latents themselves', () => {
    const s = createScheduler('euler', config, 8);
    expect(noisedStart(x0, eps, 0, s, 8)).toEqual(x0);
  });
  it('between: add_noise at the first timestep of the run', () => {
    const s = createScheduler('ddim', config, 8);
    const a = alphasCumprod(config)[s.timesteps[3]!]!;
    const got = noisedStart(x0, eps, 0.6, s, 3);
    got.forEach((v, k) => expect(v).toBeCloseTo(Math.sqrt(a) * x0[k]! + Math.sqrt(1 - a) * eps[k]!, 6));
  });
});

describe('inpaintBlend (the blend after every step, 4-channel UNets)', () => {
  const hw = 4;
  const latents = seq(4 * hw, (k) => 10 + k);
  const image = seq(4 * hw, (k) => -k);
  const eps = seq(4 * hw, (k) => 0.5 * k);
  const mask = Float32Array.from([1, 0, 0.25, 1]);
  it('(1 − m)·add_noise(image, ε, t_{i+1}) + m·latents, the mask broadcast over the channels', () => {
    const c = { signal: 0.8, noise: 0.6 };
    const got = inpaintBlend(latents, image, eps, mask, c);
    for (let k = 0; k < got.length; k++) {
      const m = mask[k % hw]!;
      expect(got[k]).toBeCloseTo((1 - m) * (0.8 * image[k]! + 0.6 * eps[k]!) + m * latents[k]!, 5);
    }
  });
  it('after the last step the image latents themselves, unnoised', () => {
    const got = inpaintBlend(latents, image, eps, mask, null);
    for (let k = 0; k < got.length; k++) if (mask[k % hw] === 0) expect(got[k]).toBe(image[k]);
    for (let k = 0; k < got.length; k++) if (mask[k % hw] === 1) expect(got[k]).toBe(latents[k]);
  });
});

describe('maskToLatent (binarize, then interpolate mode nearest)', () => {
  it('each latent cell takes the binarized top-left pixel of its 8×8 block', () => {
    const W = 16;
    const H = 16;
    const mask = new Float32Array(W * H);
    mask[0] = 0.5; // ≥ 0.5 → 1
    mask[8] = 0.49; // < 0.5 → 0
    mask[8 * W + 1] = 1; // not a block's top-left pixel: dropped
    mask[8 * W + 8] = 0.9;
    expect(maskToLatent(mask, W, H, 8)).toEqual(Float32Array.from([1, 0, 0, 1]));
    expect(() => maskToLatent(new Float32Array(3), W, H, 8)).toThrow(EditParamsError);
  });
});

describe('blurMask (Gaussian mask blur)', () => {
  const W = 21;
  const H = 17;
  const mask = new Float32Array(W * H);
  mask[8 * W + 10] = 1;
  it('is a normalized 2-D Gaussian of σ = blur (reference: the direct 2-D sum), exactly 0 beyond 3σ', () => {
    const sigma = 1.5;
    const r = Math.ceil(3 * sigma);
    let norm = 0;
    for (let i = -r; i <= r; i++) norm += Math.exp(-(i * i) / (2 * sigma * sigma));
    const got = blurMask(mask, W, H, sigma);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const [dy, dx] = [y - 8, x - 10];
        const want = Math.abs(dx) > r || Math.abs(dy) > r ? 0 : Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) / (norm * norm);
        expect(got[y * W + x]).toBeCloseTo(want, 6);
        if (want === 0) expect(got[y * W + x]).toBe(0);
      }
    }
  });
  it('blur 0 is the mask itself; a negative blur is refused by name', () => {
    expect(blurMask(mask, W, H, 0)).toEqual(mask);
    expect(() => blurMask(mask, W, H, -1)).toThrow(EditParamsError);
  });
});

describe('9-channel inpainting input', () => {
  it('masked image: the pixels where the mask is ≥ 0.5 become 0 (gray), in every channel', () => {
    const image = Float32Array.from([0.5, -1, 1, 0.2, /* ch1 */ 0.1, 0.2, 0.3, 0.4, /* ch2 */ 1, 1, 1, 1]);
    expect(maskedImage(image, Float32Array.from([0, 0.5, 1, 0.4]))).toEqual(Float32Array.from([0.5, 0, 0, 0.2, 0.1, 0, 0, 0.4, 1, 0, 0, 1]));
  });
  it('rows of [latents (4), mask (1), masked latents (4)] on the channel axis, repeated per batch row', () => {
    const lat = seq(8, (k) => k);
    const m = seq(2, () => 9);
    const ml = seq(8, (k) => -k);
    const got = inpaintUnetInput(lat, m, ml, 2);
    const row = [...lat, ...m, ...ml];
    expect(Array.from(got)).toEqual([...row, ...row]);
  });
});

describe('pasteOutside (keep the outside exactly)', () => {
  it("the input's bytes where m = 0, the decoded ones where m = 1, round(in·(1 − m) + out·m) between; alpha 255", () => {
    const input = Uint8ClampedArray.from([10, 20, 30, 0, 200, 100, 50, 255, 0, 0, 0, 255]);
    const decoded = Uint8ClampedArray.from([90, 80, 70, 255, 1, 2, 3, 255, 255, 101, 0, 255]);
    const got = pasteOutside(decoded, input, Float32Array.from([0, 1, 0.5]));
    expect(Array.from(got)).toEqual([10, 20, 30, 255, 1, 2, 3, 255, 128, 51, 0, 255]);
    expect(() => pasteOutside(decoded, input, new Float32Array(2))).toThrow(EditParamsError);
  });
});
