/**
 * The regional forward on the planning backend (shapes only): the memory plan runs the same code as
 * the GPU, so a regional SDXL step can be sized before it runs. Also checks that masks.ts names every
 * grid the transformers really run at (a missing key would throw in forward.ts), odd sizes included.
 */
import { describe, expect, it } from 'vitest';
import { unetArch } from '../../model/unet/arch';
import { regionalMaskKey, unetForward } from '../../model/unet/forward';
import { PlanBackend, type PlanTensor } from '../../model/unet/plan-backend';
import { SDXL_BASE_UNET } from '../../model/unet/sdxl-configs';
import { unetWeightShapes } from '../../model/unet/weight-shapes';
import { attentionGrids } from './masks';
import { CrossAttentionKvCache } from '../../model/unet/cross-attention-kv-cache';
import { crossAttentionLayers, loraTargets } from '../train/layers';
import { BINDING_BUDGET_BYTES, largestActivationPerPass, passesPerForward } from './batch-plan';

async function plan(height: number, width: number, regions: number): Promise<number> {
  const arch = unetArch(SDXL_BASE_UNET);
  const be = new PlanBackend(unetWeightShapes(arch), 'f16', 'f16');
  const B = regions > 1 ? 2 + regions : 2;
  const [h, w] = [height / 8, width / 8];
  const sample = be.input([B, 4, h, w], 'sample');
  const ehs = be.input([B, 77, 2048], 'ehs');
  const textEmbeds = be.input([B, 1280], 'text_embeds');
  const inputs: PlanTensor[] = [sample, ehs, textEmbeds];
  let regional;
  if (regions > 0) {
    const masks = new Map(attentionGrids(arch, h, w).map((g) => [regionalMaskKey(g.h, g.w), be.input([1, regions, g.h * g.w], 'masks')] as const));
    regional = { embeds: be.input([B, regions, 77, 2048], 'region-embeds'), masks, active: be.input([B, regions], 'active') };
    inputs.push(regional.embeds, regional.active, ...masks.values());
  }
  const out = await unetForward(be, arch, { sample, timesteps: Array(B).fill(999), encoderHiddenStates: ehs, textEmbeds, timeIds: Array(6 * B).fill(1024), ...(regional ? { regional } : {}) });
  expect(out.shape).toEqual([B, 4, h, w]);
  be.release(out, ...inputs);
  expect(be.liveTensors).toBe(0);
  return be.stats.peakActivationBytes;
}

describe('regional UNet step on the planning backend', () => {
  it('runs SDXL at an odd latent size with 0, 1 and 3 regions, without leaks', async () => {
    const plain = await plan(1016, 776, 0); // latent 127×97: odd at both attention levels
    const one = await plan(1016, 776, 1);
    const three = await plan(1016, 776, 3);
    const mib = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB`;
    console.log(`[regional plan SDXL 1016×776 f16] activation peak: plain ${mib(plain)}, 1 region ${mib(one)}, 3 regions (batch 5) ${mib(three)}`);
    // one region keeps the CFG batch of 2; three regions run 5 passes in one batch
    expect(one).toBeGreaterThanOrEqual(plain);
    expect(one).toBeLessThan(1.1 * plain);
    expect(three).toBeGreaterThan(2 * plain);
  });
});

describe('plain regions with the run\'s attn2 K/V cache (planning backend)', () => {
  it('project the stacked prompts\' K/V on the first step only, and the cache frees them all', async () => {
    const arch = unetArch(SDXL_BASE_UNET);
    let kvProjections = 0;
    class Counting extends PlanBackend {
      override linear(x: PlanTensor, w: PlanTensor): PlanTensor {
        if (/\.attn2\.to_[kv]\.weight$/.test(w.storage.label)) kvProjections++;
        return super.linear(x, w);
      }
    }
    const be = new Counting(unetWeightShapes(arch), 'f16', 'f16');
    const [B, U, h, w] = [2, 2, 13, 11];
    const sample = be.input([B, 4, h, w], 'sample');
    const ehs = be.input([B, 77, 2048], 'ehs');
    const textEmbeds = be.input([B, 1280], 'text_embeds');
    const masks = new Map(attentionGrids(arch, h, w).map((g) => [regionalMaskKey(g.h, g.w), be.input([1, U, g.h * g.w], 'masks')] as const));
    const regional = { embeds: be.input([B, U, 77, 2048], 'region-embeds'), masks, active: be.input([B, U], 'active') };
    const inputs = [sample, ehs, textEmbeds, regional.embeds, regional.active, ...masks.values()];
    const cache = new CrossAttentionKvCache<PlanTensor>((...t) => be.release(...t));
    const layers = crossAttentionLayers(arch).length;
    for (let step = 0; step < 3; step++) {
      be.release(await unetForward(be, arch, { sample, timesteps: [999, 999], encoderHiddenStates: ehs, textEmbeds, timeIds: Array(12).fill(104), regional, crossAttentionKv: cache }));
      expect(kvProjections).toBe(2 * layers);
      expect(cache.hits).toBe(step * layers);
    }
    // every layer's K and V of all 1 + U prompts: [B·(1+U), 77, out] f16
    const kvBytes = [...unetWeightShapes(arch)].filter(([n]) => /\.attn2\.to_[kv]\.weight$/.test(n)).reduce((b, [, s]) => b + B * (1 + U) * 77 * s[0]! * 2, 0);
    expect(cache.bytes).toBe(kvBytes);
    cache.release();
    be.release(...inputs);
    expect(be.liveTensors).toBe(0);
  });
});

describe('concept-aware regions on the planning backend', () => {
  it('run SDXL with per-prompt queries and low-rank EWA terms; the passes per forward shrink only when the query stack outgrows GEGLU', async () => {
    const arch = unetArch(SDXL_BASE_UNET);
    const R = 50 * 4; // 50 concepts of rank 4
    // 2 regions: q stack [3, 4096, 640] f16 = 15 MiB < the GEGLU's 40 MiB, so nothing changes
    expect(await largestActivationPerPass(arch, 128, 128, 2, 'f16', { rank: R })).toBe(4096 * 5120 * 2);
    expect(await passesPerForward(arch, 128, 128, 2, 'f16', { rank: R })).toBe(3);
    // 9 regions: q stack [10, 4096, 640] f16 = 50 MiB is the largest binding
    expect(await largestActivationPerPass(arch, 128, 128, 9, 'f16', { rank: R })).toBe(10 * 4096 * 640 * 2);
    expect(await passesPerForward(arch, 128, 128, 9, 'f16', { rank: R })).toBe(2);
  });

  it('stack each layer\'s prompts for an [uncond, cond] batch and free everything they make', async () => {
    const arch = unetArch(SDXL_BASE_UNET);
    const be = new PlanBackend(unetWeightShapes(arch), 'f16', 'f16');
    const [B, U, R, h, w] = [2, 2, 8, 97, 127];
    const P = U + 1;
    const layers = crossAttentionLayers(arch).length;
    const grids = attentionGrids(arch, h, w);
    const inputs: PlanTensor[] = [];
    const input = (shape: number[], label: string) => {
      const t = be.input(shape, label);
      inputs.push(t);
      return t;
    };
    const masks = new Map(grids.map((g) => [regionalMaskKey(g.h, g.w), input([1, U, g.h * g.w], 'masks')] as const));
    const perLayer = (shape: number[], label: string) => Array.from({ length: layers }, () => input(shape, label));
    const concepts = {
      negativePass: [true, false],
      negative: input([P, 77, 2048], 'negative'),
      positive: perLayer([P, 77, 2048], 'positive'),
      scales: perLayer([P, 1, R], 'scales'),
      scalesT: perLayer([R, P], 'scales-t'),
      coefficients: new Map(grids.map((g) => [regionalMaskKey(g.h, g.w), input([B, g.h * g.w, P], 'coefficients')] as const)),
      adapters: new Map(loraTargets(arch).map((t) => [t.weight, { down: input([R, t.inFeatures], 'down'), up: input([t.outFeatures, R], 'up') }] as const)),
    };
    const out = await unetForward(be, arch, {
      sample: input([B, 4, h, w], 'sample'),
      timesteps: [999, 999],
      encoderHiddenStates: input([B, 77, 2048], 'ehs'),
      textEmbeds: input([B, 1280], 'text_embeds'),
      timeIds: Array(12).fill(1024),
      regional: { masks, active: input([B, U], 'active'), concepts },
    });
    expect(out.shape).toEqual([B, 4, h, w]);
    be.release(out, ...inputs);
    expect(be.liveTensors).toBe(0);
  });
});

describe('regional passes per UNet forward', () => {
  it('keeps SDXL 1024² within the 128 MiB binding budget: 3 passes per forward (GEGLU [B, 4096, 5120] f16)', async () => {
    const arch = unetArch(SDXL_BASE_UNET);
    expect(await largestActivationPerPass(arch, 128, 128, 2, 'f16')).toBe(4096 * 5120 * 2);
    expect(await passesPerForward(arch, 128, 128, 4, 'f16')).toBe(3);
    expect(await passesPerForward(arch, 128, 128, 4, 'f32')).toBe(1);
    expect(await passesPerForward(arch, 64, 64, 4, 'f16')).toBe(Math.floor(BINDING_BUDGET_BYTES / (1024 * 5120 * 2)));
  });
});
