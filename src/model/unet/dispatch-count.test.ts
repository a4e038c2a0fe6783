// The dispatch count of one UNet step (dispatch-count.ts) on the planning device: the tiny golden SDXL
// and the real SDXL-base config. Every weight matrix the step multiplies by is one dispatch at least, so
// the count is bounded below by them; it grows with depth, not with the image size.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UNetConfigJson } from './arch';
import { unetArch } from './arch';
import { countUNetStepDispatches } from './dispatch-count';
import { SDXL_BASE_UNET } from './sdxl-configs';
import { unetWeightShapes } from './weight-shapes';

const tiny = JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as UNetConfigJson;

/** Linear and conv weights (2-D and 4-D): each is at least one matmul or conv dispatch. */
function matrixWeights(config: UNetConfigJson): number {
  return [...unetWeightShapes(unetArch(config))].filter(([name, shape]) => name.endsWith('.weight') && (shape.length === 2 || shape.length === 4)).length;
}

describe('UNet step dispatch count', () => {
  it('is at least one dispatch per weight matrix, and the same at two image sizes', async () => {
    const small = await countUNetStepDispatches(tiny, { width: 64, height: 48, batch: 2, dtype: 'f32' });
    const large = await countUNetStepDispatches(tiny, { width: 256, height: 192, batch: 2, dtype: 'f32' });
    expect(small).toBeGreaterThanOrEqual(matrixWeights(tiny));
    expect(large).toBe(small);
  });

  it('counts SDXL-base at 1024² with CFG (printed by npm run memory-plan)', async () => {
    const n = await countUNetStepDispatches(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, dtype: 'f16' });
    console.log(`[dispatches] SDXL-base 1024² CFG step: ${n}`);
    expect(n).toBeGreaterThanOrEqual(matrixWeights(SDXL_BASE_UNET));
  }, 60_000);
});
