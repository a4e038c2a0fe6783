// The dispatch count of one UNet step (dispatch-count.ts) on the planning device: the tiny golden SDXL
// and the real SDXL-base config. Every weight matrix the step multiplies by is one dispatch at least,
// except that each self-attention's q/k/v are one matmul (fused-qkv.ts), so the count is bounded below
// by the matrices less two per attn1; it grows with depth, not with the image size.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UNetConfigJson } from './arch';
import { unetArch } from './arch';
import { countUNetStepDispatches } from './dispatch-count';
import { selfAttentionPrefixes } from './fused-qkv';
import { SDXL_BASE_UNET } from './sdxl-configs';
import { unetWeightShapes } from './weight-shapes';

const tiny = JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as UNetConfigJson;

/** Linear and conv weights (2-D and 4-D): each is at least one matmul or conv dispatch. */
function matrixWeights(config: UNetConfigJson): number {
  return [...unetWeightShapes(unetArch(config))].filter(([name, shape]) => name.endsWith('.weight') && (shape.length === 2 || shape.length === 4)).length;
}

const attn1Count = (config: UNetConfigJson) => selfAttentionPrefixes(unetArch(config)).length;

describe('UNet step dispatch count', () => {
  it('is at least one dispatch per weight matrix (q/k/v of an attn1 counting once), and the same at two image sizes', async () => {
    const small = await countUNetStepDispatches(tiny, { width: 64, height: 48, batch: 2, dtype: 'f32' });
    const large = await countUNetStepDispatches(tiny, { width: 256, height: 192, batch: 2, dtype: 'f32' });
    expect(small).toBeGreaterThanOrEqual(matrixWeights(tiny) - 2 * attn1Count(tiny));
    expect(large).toBe(small);
  });

  it('counts SDXL-base at 1024² with CFG (printed by npm run memory-plan): two fewer per attn1 than three q/k/v matmuls', async () => {
    const size = { width: 1024, height: 1024, batch: 2 };
    const n = await countUNetStepDispatches(SDXL_BASE_UNET, { ...size, dtype: 'f16' });
    const unfused = await countUNetStepDispatches(SDXL_BASE_UNET, { ...size, dtype: 'f16', fuseQkv: false });
    console.log(`[dispatches] SDXL-base 1024² CFG step: ${n} (q/k/v unfused: ${unfused}; ${attn1Count(SDXL_BASE_UNET)} attn1)`);
    expect(n).toBeGreaterThanOrEqual(matrixWeights(SDXL_BASE_UNET) - 2 * attn1Count(SDXL_BASE_UNET));
    expect(unfused).toBe(1542); // before the fusion (README's memory plan)
    expect(n).toBe(unfused - 2 * attn1Count(SDXL_BASE_UNET));
    expect(n).toBe(1402);
  }, 60_000);

  it('counts the packed path (no shader-f16: packed f16 weights, f32 activations) the same way', async () => {
    const size = { width: 1024, height: 1024, batch: 2, dtype: 'f32' as const, packWeights: true };
    const n = await countUNetStepDispatches(SDXL_BASE_UNET, size);
    const unfused = await countUNetStepDispatches(SDXL_BASE_UNET, { ...size, fuseQkv: false });
    console.log(`[dispatches] SDXL-base 1024² CFG step, packed: ${n} (q/k/v unfused: ${unfused})`);
    expect(unfused).toBe(1632);
    expect(n).toBe(unfused - 2 * attn1Count(SDXL_BASE_UNET));
    expect(n).toBe(1492);
  }, 60_000);
});
