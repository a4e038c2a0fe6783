import { describe, expect, it } from 'vitest';
import { planUNetStep } from './memory-plan';
import { SDXL_BASE_UNET, SD15_UNET } from './sdxl-configs';
import { unetArch } from './arch';
import { unetWeightShapes } from './weight-shapes';

describe('UNet memory plan (dry run of the real forward)', () => {
  it('fits one SDXL 1024² CFG step with f16 weights in 7 GiB with no binding over 128 MiB', async () => {
    const plan = await planUNetStep(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, weightDtype: 'f16', activationDtype: 'f16' });
    // 2,567,463,684 parameters × 2 bytes, each tensor padded to 4 bytes
    expect(plan.weightBytes).toBeGreaterThanOrEqual(2_567_463_684 * 2);
    expect(plan.weightBytes).toBeLessThan(2_567_463_684 * 2 + 4 * plan.weightTensors);
    expect(plan.peakBytes).toBeLessThanOrEqual(7 * 2 ** 30);
    expect(plan.largestBindingBytes).toBeLessThanOrEqual(128 * 2 ** 20);
    // the GEGLU projection at the 64×64 level is the largest activation: [2, 4096, 2·4·640] f16
    expect(plan.largestActivation.shape).toEqual([2, 4096, 5120]);
    expect(plan.activationPoolBytes).toBeGreaterThanOrEqual(plan.activationPeakBytes);
  });

  it('scales with resolution and runs SD-1.5 from the same blocks', async () => {
    const small = await planUNetStep(SDXL_BASE_UNET, { width: 512, height: 512, batch: 2, weightDtype: 'f16', activationDtype: 'f16' });
    const big = await planUNetStep(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, weightDtype: 'f16', activationDtype: 'f16' });
    expect(big.activationPeakBytes).toBeGreaterThan(3 * small.activationPeakBytes);
    expect(big.weightBytes).toBe(small.weightBytes);
    const sd15 = await planUNetStep(SD15_UNET, { width: 512, height: 512, batch: 2, weightDtype: 'f16', activationDtype: 'f16' });
    expect(sd15.weightBytes).toBeGreaterThanOrEqual(859_520_964 * 2);
  });
});

describe('UNet memory plan of a steady-state step (the run\'s attn2 K/V cache live beside it)', () => {
  it('adds exactly the cached K/V to the plan, and still fits 7 GiB with no binding over 128 MiB', async () => {
    const o = { width: 1024, height: 1024, batch: 2, weightDtype: 'f16', activationDtype: 'f16' } as const;
    const first = await planUNetStep(SDXL_BASE_UNET, o);
    const steady = await planUNetStep(SDXL_BASE_UNET, { ...o, crossAttentionCache: true });
    // every attn2 layer's K and V: [2, 77, out] f16 each, from the config's to_k/to_v shapes
    const kv = [...unetWeightShapes(unetArch(SDXL_BASE_UNET))].filter(([n]) => /\.attn2\.to_[kv]\.weight$/.test(n)).reduce((b, [, s]) => b + 2 * 77 * s[0]! * 2, 0);
    expect(steady.kvCacheBytes).toBe(kv);
    expect(first.kvCacheBytes).toBe(0);
    console.log(`[memory-plan] SDXL 1024² CFG: first step ${first.peakBytes} B all in, steady state ${steady.peakBytes} B with a ${steady.kvCacheBytes} B K/V cache`);
    expect(steady.activationPeakBytes).toBeGreaterThanOrEqual(first.activationPeakBytes);
    expect(steady.activationPeakBytes).toBeLessThanOrEqual(first.activationPeakBytes + kv);
    expect(steady.peakBytes).toBeLessThanOrEqual(7 * 2 ** 30);
    expect(steady.largestBindingBytes).toBe(first.largestBindingBytes);
  });
});

describe('UNet memory plan without shader-f16 (packed f16 weights, f32 activations)', () => {
  it('fits one SDXL 1024² CFG step in 7.5 GiB with no binding over 128 MiB', async () => {
    const plan = await planUNetStep(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, weightDtype: 'f16', activationDtype: 'f32', packedWeights: true });
    const f16 = await planUNetStep(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, weightDtype: 'f16', activationDtype: 'f16' });
    const f32 = await planUNetStep(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, weightDtype: 'f32', activationDtype: 'f32' });
    // matrices and conv kernels 2 bytes per value, the 1-D tensors (biases, norms) 4: a little over f16
    expect(plan.weightBytes).toBeGreaterThan(f16.weightBytes);
    expect(plan.weightBytes).toBeLessThan(f16.weightBytes * 1.01);
    expect(plan.weightBytes).toBeLessThan(f32.weightBytes * 0.51);
    expect(plan.peakBytes).toBeLessThanOrEqual(7.5 * 2 ** 30);
    expect(plan.largestBindingBytes).toBeLessThanOrEqual(128 * 2 ** 20);
    // the f32 GEGLU projection at the 64×64 level ([2, 4096, 5120], 160 MiB) runs in row chunks, so the
    // largest activation is now the up-block concat [2, 960, 128, 128] f32 = 120 MiB
    expect(f32.largestActivation.bytes).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(plan.largestActivation.shape).toEqual([2, 960, 128, 128]);
    expect(plan.largestActivation.bytes).toBe(2 * 960 * 128 * 128 * 4);
  });
});
