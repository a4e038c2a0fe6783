/**
 * SD-1.5 runs the same blocks with two differences: 1×1-conv projections in Transformer2DModel
 * (use_linear_projection false) and no text_time addition embedding. The golden set has only the SDXL
 * tiny UNet, so the SD-1.5 paths are checked against it by construction:
 *  - the conv-projection transformer, given proj_in/proj_out reshaped to [C, C, 1, 1], must reproduce
 *    diffusers' op_transformer2d_down1 output (a linear on tokens equals a 1×1 conv on the image);
 *  - the whole UNet without the addition embedding runs end to end with the SD-1.5 block layout.
 */
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../gpu-harness';
import { compare, describeComparison, randomArray } from '../numeric';
import { GoldenEnv } from '../../src/golden/env';
import { GoldenCase, readManifest } from '../../src/golden/case-file';
import { transformer, unetForward } from '../../src/model/unet/forward';
import { GpuUNetBackend } from '../../src/model/unet/gpu-backend';
import { unetArch } from '../../src/model/unet/arch';
import type { Tensor } from '../../src/gpu/tensor';

describe(`SD-1.5 paths on ${TEST_ADAPTER}`, () => {
  it('a 1×1-conv projection transformer reproduces the linear-projection golden output', async () => {
    const ctx = await testContext();
    const env = new GoldenEnv(ctx, 'golden', 'f32');
    const unet = await env.loadedUNet();
    const prefix = 'down_blocks.1.attentions.0';
    const weights = new Map<string, Tensor>(unet.weights);
    for (const p of ['proj_in', 'proj_out']) {
      const w = unet.weights.get(`${prefix}.${p}.weight`)!;
      weights.set(`${prefix}.${p}.weight`, { ...w, shape: [w.shape[0]!, w.shape[1]!, 1, 1] });
    }
    const be = new GpuUNetBackend(ctx, weights, 'f32', 'sd15-view');
    const c = await GoldenCase.open('golden', 'op_transformer2d_down1', readManifest('golden').cases.op_transformer2d_down1!);
    const x = env.upload(await c.f32('input.hidden_states'), c.shape('input.hidden_states'), 'x');
    const ehs = env.upload(await c.f32('input.encoder_hidden_states'), c.shape('input.encoder_hidden_states'), 'ehs');
    const t = { ...unet.arch.down[1]!.attentions[0]!, linearProjection: false };
    const out = await ctx.read(await transformer(be, unet.arch, t, x, ehs));
    const cmp = compare(out, await c.f32('output'));
    console.log(`[sd15] conv-projection transformer vs golden: ${describeComparison(cmp)}`);
    expect(cmp.maxRel).toBeLessThanOrEqual(1e-4);
    await c.close();
  });

  it('runs the UNet without the text_time addition embedding (SD-1.5 conditioning)', async () => {
    const ctx = await testContext();
    const env = new GoldenEnv(ctx, 'golden', 'f32');
    const unet = await env.loadedUNet();
    const cfg = { ...env.unetConfig(), addition_embed_type: null };
    const arch = unetArch(cfg);
    expect(arch.addition).toBeNull();
    const be = new GpuUNetBackend(ctx, unet.weights, 'f32', 'no-addition');
    const sample = env.upload(randomArray(4 * 8 * 8, 3), [1, 4, 8, 8], 'sample');
    const ehs = env.upload(randomArray(77 * 80, 4), [1, 77, 80], 'ehs');
    const out = await unetForward(be, arch, { sample, timesteps: [500], encoderHiddenStates: ehs });
    expect(out.shape).toEqual([1, 4, 8, 8]);
    const data = await ctx.read(out);
    expect(data.every(Number.isFinite)).toBe(true);
    expect(Math.max(...data.map(Math.abs))).toBeGreaterThan(0);
  });
});
