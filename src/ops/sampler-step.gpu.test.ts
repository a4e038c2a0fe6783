// The fused sampling-step kernel against its plain-TS reference on odd latent sizes: with and without
// CFG, every optional part (kept x̂₀ read and written, ancestral noise, preview, guided record), and on
// lavapipe with f16 UNet tensors (the f16 path's pred and next input; latents stay f32). Inpainting:
// the 4-channel blend after the step, 9-channel sample rows (the extra channels must stay as they were),
// and a guided prediction given beforehand (guidance rescale's cfg-rescale.ts).
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import type { DType } from '../gpu/tensor';
import { SAMPLER_HIST_SLOTS, samplerStep, samplerStepReference, type SamplerStepCoefficients } from './sampler-step';

const RGB = {
  rows: [[0.3651, 0.4232, 0.4341], [-0.2533, -0.0042, 0.1068], [0.1076, 0.1111, -0.0362], [-0.3165, -0.2492, -0.2188]] as const,
  bias: [0.1084, -0.0175, -0.0011] as const,
};

interface Case {
  name: string;
  C: number;
  h: number;
  w: number;
  rows: number;
  c: SamplerStepCoefficients;
  sampleChannels?: number;
  preGuided?: boolean;
}

const CASES: Case[] = [
  { name: 'CFG, plain Euler-like step', C: 4, h: 5, w: 7, rows: 2, c: { guidance: 5, x: 1.03, out: -0.41, hist: [], noise: 0, inScale: 0.37 } },
  { name: 'CFG, DPM++ 2M-like (hist read and kept) + preview', C: 4, h: 9, w: 3, rows: 2, c: { guidance: 7.5, x: 0.8, out: 0.3, hist: [-0.25], noise: 0, keep: [{ slot: 0, x: 1.2, out: -0.6 }], inScale: 1, preview: { x: 0.9, out: -0.2 } } },
  { name: 'no CFG, ancestral noise, 1 row', C: 4, h: 11, w: 13, rows: 1, c: { guidance: null, x: 0.97, out: -0.5, hist: [], noise: 0.33, inScale: 0.5 } },
  { name: 'CFG, 3 sample rows (regional batch), 6 channels', C: 6, h: 3, w: 5, rows: 3, c: { guidance: 3, x: 1, out: 0.1, hist: [], noise: 0.2, inScale: 0.9 } },
  { name: 'CFG, inpaint blend + preview', C: 4, h: 7, w: 5, rows: 2, c: { guidance: 4, x: 0.9, out: -0.3, hist: [], noise: 0, inScale: 0.6, blend: { signal: 0.7, noise: 0.45 }, preview: { x: 1, out: -0.5 } } },
  { name: 'no CFG, last-step blend (image latents as they are), DPM++-like', C: 4, h: 3, w: 11, rows: 1, c: { guidance: null, x: 0.8, out: 0.3, hist: [-0.25], noise: 0, keep: [{ slot: 0, x: 1.2, out: -0.6 }], inScale: 1, blend: { signal: 1, noise: 0 } } },
  { name: 'CFG, 9-channel inpainting rows', C: 4, h: 5, w: 3, rows: 2, sampleChannels: 9, c: { guidance: 6, x: 1.01, out: -0.2, hist: [], noise: 0, inScale: 0.45 } },
  // PNDM-like: every slot read with its own weight, two slots rewritten (one of them also read: read before written)
  { name: 'CFG, PLMS-like (4 slots read, 2 kept) + preview', C: 4, h: 7, w: 3, rows: 2, c: { guidance: 5, x: 1.1, out: -0.9, hist: [0.37, -1.54, 2.46, 0.2], noise: 0, keep: [{ slot: 1, x: 0, out: 1 }, { slot: 3, x: 1, out: 0 }], inScale: 1, preview: { x: 1, out: -0.4 } } },
  { name: 'no CFG, PLMS re-step (slots 0 and 3 only, x unused)', C: 4, h: 5, w: 5, rows: 1, c: { guidance: null, x: 0, out: -0.3, hist: [-0.3, 0, 0, 1.02], noise: 0, inScale: 1 } },
  { name: 'guided prediction given (rescale), ancestral noise', C: 4, h: 9, w: 7, rows: 2, preGuided: true, c: { guidance: 5, x: 0.95, out: -0.4, hist: [], noise: 0.3, inScale: 0.7, preview: { x: 1, out: 0.2 } } },
];

describe(`sampler step kernel on ${TEST_ADAPTER}`, () => {
  const dtypes: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
  for (const dt of dtypes)
    for (const tc of CASES)
      it(`${tc.name} (${dt} UNet tensors)`, async () => {
        const ctx = await testContext();
        const { C, h, w, rows, c } = tc;
        const n = C * h * w;
        const stride = (tc.sampleChannels ?? C) * h * w;
        // image latents, ε and a mask with 0, 1 and soft values (a blurred mask's edge)
        const mask = Float32Array.from({ length: h * w }, (_, p) => [0, 1, 0.3][p % 3]!);
        const host = {
          x: randomArray(n, 1, -3, 3),
          pred: randomArray((c.guidance === null ? 1 : 2) * n, 2, -2, 2),
          hist: randomArray(SAMPLER_HIST_SLOTS * n, 3),
          noise: randomArray(n, 4),
          edit: Float32Array.of(...randomArray(2 * n, 5, -2, 2), ...mask),
          sampleBefore: randomArray(rows * stride, 6),
          preGuided: randomArray(n, 7, -2, 2),
        };
        // the f16 path reads pred as stored: round it the way the upload does so both sides see the same values
        const pred = ctx.upload(host.pred, [host.pred.length / n, C, h, w], dt, 'pred');
        const predSeen = await ctx.read(pred);
        const t = {
          x: ctx.upload(host.x, [C, h, w], 'f32', 'x'),
          pred,
          hist: ctx.upload(host.hist, [SAMPLER_HIST_SLOTS, C, h, w], 'f32', 'hist'),
          noise: ctx.upload(host.noise, [C, h, w], 'f32', 'noise'),
          sample: ctx.upload(host.sampleBefore, [rows, stride / (h * w), h, w], dt, 'sample'),
          guided: tc.preGuided ? ctx.upload(host.preGuided, [C, h, w], 'f32', 'guided') : ctx.empty([C, h, w], 'f32', 'guided'),
          preview: ctx.empty([h, w], 'f32', 'preview'),
          ...(c.blend ? { edit: ctx.upload(host.edit, [host.edit.length], 'f32', 'edit') } : {}),
        };
        const sampleSeen = await ctx.read(t.sample);
        const ref = samplerStepReference({ C, h, w, rows, sampleChannels: tc.sampleChannels }, host.x, predSeen, host.hist, host.noise, c, RGB, {
          edit: host.edit,
          sampleBefore: sampleSeen,
          ...(tc.preGuided ? { preGuided: host.preGuided } : {}),
        });
        const o = { recordGuided: true, preGuided: tc.preGuided === true, ...(tc.sampleChannels ? { sampleChannels: tc.sampleChannels } : {}) };
        await checked(ctx, tc.name, () => samplerStep(ctx, t, c, RGB, o));
        const tol = dt === 'f16' ? 1e-3 : 2e-6;
        for (const [what, got, want] of [
          ['x', await ctx.read(t.x), ref.x],
          ['hist', await ctx.read(t.hist), ref.hist],
          ['guided', await ctx.read(t.guided), ref.guided],
          ['sample', await ctx.read(t.sample), ref.sample],
        ] as const) {
          const cmp = compare(got, want);
          expect(cmp.maxRel, `${what}: ${describeComparison(cmp)}`).toBeLessThan(tol);
        }
        if (ref.preview) {
          const raw = await ctx.read(t.preview);
          const rgba = new Uint8ClampedArray(raw.buffer, raw.byteOffset, h * w * 4);
          // pack4x8unorm rounds like Math.round except at exact halves of an f32 difference: ≤ 1 level
          const worst = rgba.reduce((m, v, i) => Math.max(m, Math.abs(v - ref.preview![i]!)), 0);
          expect(worst).toBeLessThanOrEqual(1);
        }
        ctx.release(...Object.values(t));
      });

  it('refuses a sample buffer that is not whole rows of the latents, by name', async () => {
    const ctx = await testContext();
    const mk = (shape: number[]) => ctx.empty(shape, 'f32', 't');
    const t = { x: mk([4, 3, 3]), pred: mk([2, 4, 3, 3]), hist: mk([4, 3, 3]), noise: mk([4, 3, 3]), sample: mk([37]), guided: mk([4, 3, 3]), preview: mk([3, 3]) };
    await expect(samplerStep(ctx, t, { guidance: 2, x: 1, out: 1, hist: [], noise: 0, inScale: 1 }, RGB)).rejects.toThrow(/not whole rows/);
    ctx.release(...Object.values(t));
  });

  it('refuses a blend without its edit tensor, by name', async () => {
    const ctx = await testContext();
    const mk = (shape: number[]) => ctx.empty(shape, 'f32', 't');
    const t = { x: mk([4, 3, 3]), pred: mk([2, 4, 3, 3]), hist: mk([4, 3, 3]), noise: mk([4, 3, 3]), sample: mk([2, 9, 3, 3]), guided: mk([4, 3, 3]), preview: mk([3, 3]) };
    const c = { guidance: 2, x: 1, out: 1, hist: [], noise: 0, inScale: 1, blend: { signal: 1, noise: 0 } };
    await expect(samplerStep(ctx, t, c, RGB, { sampleChannels: 9 })).rejects.toThrow(/inpaint blend needs an f32 edit tensor/);
    ctx.release(...Object.values(t));
  });

  it('refuses history that does not hold every slot, and a slot past the last, by name', async () => {
    const ctx = await testContext();
    const mk = (shape: number[]) => ctx.empty(shape, 'f32', 't');
    const t = { x: mk([4, 3, 3]), pred: mk([2, 4, 3, 3]), hist: mk([4, 3, 3]), noise: mk([4, 3, 3]), sample: mk([2, 4, 3, 3]), guided: mk([4, 3, 3]), preview: mk([3, 3]) };
    const c = { guidance: 2, x: 1, out: 1, hist: [0.5], noise: 0, inScale: 1 };
    await expect(samplerStep(ctx, t, c, RGB)).rejects.toThrow(/must hold 4 slots/);
    await expect(samplerStep(ctx, t, { ...c, hist: [], keep: [{ slot: SAMPLER_HIST_SLOTS, x: 1, out: 0 }] }, RGB)).rejects.toThrow(/at most 4 history slots/);
    ctx.release(...Object.values(t));
  });
});
