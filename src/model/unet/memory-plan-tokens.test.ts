/**
 * Long prompts (issue 12 point 4) give the UNet a context of 77·k tokens. The memory plan runs the real
 * forward on shapes only: with SDXL base at 1024², CFG batch 2, the largest binding does not move with k
 * (cross-attention is fused, no [Tq, Tk] score matrix is stored) and the peak grows only by the K/V
 * projections of the longer context, so the engine's size check (made at 77) holds for chunked prompts.
 */
import { describe, expect, it } from 'vitest';
import { planUNetStep } from './memory-plan';
import { SDXL_BASE_UNET } from './sdxl-configs';

describe('UNet memory plan with long-prompt contexts', () => {
  it('77·k tokens: same largest binding, the peak grows by about the context projections', async () => {
    const plan = (tokens: number) => planUNetStep(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, weightDtype: 'f16', activationDtype: 'f16', tokens });
    const base = await plan(77);
    for (const k of [2, 4, 10]) {
      const p = await plan(77 * k);
      expect(p.largestBindingBytes).toBe(base.largestBindingBytes);
      // K and V of one attn2 at the widest level: 2 × [2, 77k, 1280] f16, plus pool size-class slack
      const kv = 2 * 2 * 77 * k * 1280 * 2;
      expect(p.peakBytes - base.peakBytes).toBeLessThanOrEqual(4 * kv);
      expect(p.peakBytes).toBeGreaterThanOrEqual(base.peakBytes);
    }
  });
});
