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

describe('regional passes per UNet forward', () => {
  it('keeps SDXL 1024² within the 128 MiB binding budget: 3 passes per forward (GEGLU [B, 4096, 5120] f16)', async () => {
    const arch = unetArch(SDXL_BASE_UNET);
    expect(await largestActivationPerPass(arch, 128, 128, 2, 'f16')).toBe(4096 * 5120 * 2);
    expect(await passesPerForward(arch, 128, 128, 4, 'f16')).toBe(3);
    expect(await passesPerForward(arch, 128, 128, 4, 'f32')).toBe(1);
    expect(await passesPerForward(arch, 64, 64, 4, 'f16')).toBe(Math.floor(BINDING_BUDGET_BYTES / (1024 * 5120 * 2)));
  });
});
