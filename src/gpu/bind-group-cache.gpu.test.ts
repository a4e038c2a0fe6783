/**
 * Bind groups reused across sampling steps (issue 15 point 2): once the pool holds a step's buffers,
 * a step of the tiny golden UNet on the same inputs makes no new bind group (the pool hands out its
 * oldest idle buffer and the i-th dispatch of a submission takes the i-th uniform slot, whatever the
 * GPU's pace), and its output is the same bits as the first step's, so every cached bind group bound
 * the right buffers and uniforms.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { testContext } from '../../tests/gpu-harness';
import { randomArray } from '../../tests/numeric';
import { openModelFile } from '../golden/case-file';
import type { UNetConfigJson } from '../model/unet/arch';
import { destroyUNet, loadUNet } from '../model/unet/load';
import { GpuUNetBackend } from '../model/unet/gpu-backend';
import { runSyntheticStep } from '../model/unet/synthetic-step';

describe('bind group reuse across steps', () => {
  it('the fourth step of the same forward is all cache hits and gives the same bits', async () => {
    const ctx = await testContext();
    const config = JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as UNetConfigJson;
    const file = await openModelFile('golden/models', 'unet/diffusion_pytorch_model.safetensors');
    const unet = await loadUNet(ctx, file, config, { dtype: 'f32' }).finally(() => file.close());
    const cache = ctx.bindGroupCache;
    try {
      const be = new GpuUNetBackend(ctx, unet.weights, 'f32', 'tiny unet');
      let seed = 5;
      const inputs = (shape: number[], label: string) => ctx.upload(randomArray(shape.reduce((a, b) => a * b, 1), seed++), shape, 'f32', label);
      const outs: Float32Array[] = [];
      let last = { hits: 0, misses: 0 };
      let first = { hits: 0, misses: 0 };
      for (let step = 0; step < 4; step++) {
        seed = 5; // the same inputs every step
        const [h0, m0] = [cache.hits, cache.misses];
        const { out, inputs: made } = await runSyntheticStep(be, unet.arch, { width: 64, height: 64, batch: 2 }, inputs);
        outs.push(await ctx.read(out));
        ctx.release(out, ...made);
        last = { hits: cache.hits - h0, misses: cache.misses - m0 };
        if (step === 0) first = last;
      }
      expect(first.misses).toBeGreaterThan(0);
      expect(last.misses).toBe(0);
      expect(outs[1]).toEqual(outs[0]);
      expect(outs[2]).toEqual(outs[0]);
      expect(outs[3]).toEqual(outs[0]);
      expect(outs[0]!.some((v) => v !== 0)).toBe(true);
    } finally {
      destroyUNet(ctx, unet);
    }
  });
});
