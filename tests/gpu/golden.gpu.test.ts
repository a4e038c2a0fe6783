/**
 * The golden runner (npm run golden) over the repository's copy of the golden set, in the test command:
 * f32 on SwiftShader, f16 storage on lavapipe. Every case of the set must PASS: per-op, UNet, UNet+LoRA,
 * tokenizer, text encoders, VAE, schedulers and the two whole text-to-image pipelines; none may SKIP.
 */
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../gpu-harness';
import { runGolden } from '../../src/golden/runner';

const MUST_PASS = [
  'unet_forward', 'unet_forward_odd_size', 'unet_forward_per_sample_t', 'unet_lora',
  'op_attention_cross', 'op_attention_self', 'op_basic_transformer_block', 'op_downsample', 'op_downsample_odd',
  'op_feedforward_geglu', 'op_groupnorm_16ch', 'op_groupnorm_96ch', 'op_layernorm', 'op_mid_block',
  'op_resnet_down0_res0', 'op_resnet_down1_res0_shortcut', 'op_resnet_up0_res0_shortcut', 'op_time_embedding',
  'op_timestep_embedding', 'op_transformer2d_down1', 'op_transformer2d_mid', 'op_upsample', 'op_upsample_output_size',
  'text_encoders', 'vae_decode', 'vae_encode', 'op_vae_mid_attention', 'op_vae_up_block1',
  'pipeline_sdxl_euler', 'pipeline_sdxl_dpmpp2m_zero_neg',
];

describe(`golden cases on ${TEST_ADAPTER}`, () => {
  it('passes every case of golden/', async () => {
    const ctx = await testContext();
    const dtype = ctx.hasF16 ? 'f16' : 'f32';
    const results = await runGolden(ctx, 'golden', { dtype, onResult: (_r, line) => console.log(`[golden ${dtype}] ${line}`) });
    const failed = results.filter((r) => r.status === 'FAIL');
    const skipped = results.filter((r) => r.status === 'SKIP');
    expect(skipped.map((r) => `${r.name}: ${r.why}`)).toEqual([]);
    expect(failed, failed.map((r) => `${r.name}: ${r.why ?? r.maxRel}`).join('\n')).toEqual([]);
    for (const name of MUST_PASS) {
      const mine = results.filter((r) => r.name === name || r.name.startsWith(`${name}[`));
      expect(mine.length, `${name} was run`).toBeGreaterThan(0);
      expect(mine.every((r) => r.status === 'PASS'), `${name} passed`).toBe(true);
    }
    // LoRA: all four file formats, fused and folded
    expect(results.filter((r) => r.name.startsWith('unet_lora[') && r.status === 'PASS')).toHaveLength(13);
  }, 900_000);

  // The path of a device without shader-f16 (SwiftShader is one): the models' matrices, conv kernels and
  // token tables packed as f16 pairs in u32 words, f32 math (GoldenEnv.packWeights, env.ts tolerances).
  // On lavapipe the same packed kernels run (an f16 weight under f32 activations takes them everywhere).
  it('passes the model cases with packed f16 weights and f32 activations', async () => {
    const ctx = await testContext();
    const filter = ['op_', 'unet_', 'text_encoders', 'vae_', 'pipeline_'];
    const results = await runGolden(ctx, 'golden', { dtype: 'f32', packWeights: true, filter, onResult: (_r, line) => console.log(`[golden packed] ${line}`) });
    const failed = results.filter((r) => r.status === 'FAIL');
    expect(results.filter((r) => r.status === 'SKIP').map((r) => `${r.name}: ${r.why}`)).toEqual([]);
    expect(failed, failed.map((r) => `${r.name}: ${r.why ?? r.maxRel}`).join('\n')).toEqual([]);
    for (const name of MUST_PASS) {
      if (!filter.some((f) => name.includes(f))) continue;
      expect(results.some((r) => (r.name === name || r.name.startsWith(`${name}[`)) && r.status === 'PASS'), `${name} passed packed`).toBe(true);
    }
    expect(results.filter((r) => r.name.startsWith('unet_lora[') && r.status === 'PASS')).toHaveLength(13);
  }, 900_000);
});
