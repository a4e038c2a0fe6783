/**
 * The goldens with f16 arithmetic (GpuContext.f16Math: the tiled matmul's f16 tiles and per-K-tile f16
 * sums) on lavapipe, the CPU adapter with shader-f16: issue 15 asks that an f16-math variant ship only
 * where the goldens still pass at the f16 path's own tolerances (golden/env.ts).
 */
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../gpu-harness';
import { runGolden } from '../../src/golden/runner';

describe(`golden cases with f16 arithmetic on ${TEST_ADAPTER}`, () => {
  it('the UNet, LoRA, per-op and pipeline cases pass with f16Math on', async () => {
    const ctx = await testContext();
    expect(ctx.hasF16).toBe(true);
    ctx.f16Math = true;
    try {
      const filter = ['op_', 'unet_', 'text_encoders', 'pipeline_'];
      const results = await runGolden(ctx, 'golden', { dtype: 'f16', filter, onResult: (_r, line) => console.log(`[golden f16 math] ${line}`) });
      const failed = results.filter((r) => r.status === 'FAIL');
      expect(results.filter((r) => r.status === 'SKIP').map((r) => `${r.name}: ${r.why}`)).toEqual([]);
      expect(failed, failed.map((r) => `${r.name}: ${r.why ?? r.maxRel}`).join('\n')).toEqual([]);
      for (const name of ['unet_forward', 'unet_lora', 'op_basic_transformer_block', 'text_encoders', 'pipeline_sdxl_euler']) {
        expect(results.some((r) => (r.name === name || r.name.startsWith(`${name}[`)) && r.status === 'PASS'), `${name} passed`).toBe(true);
      }
    } finally {
      ctx.f16Math = false;
    }
  }, 900_000);
});
