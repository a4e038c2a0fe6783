import { describe, expect, it } from 'vitest';
import { planUNetStep } from './memory-plan';
import { SDXL_BASE_UNET, SD15_UNET } from './sdxl-configs';

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
