import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { readSafetensors, tensor } from '../../tests/golden-small-case';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import {
  SDXL_TIME_PROJ,
  sdxlAddEmbedInput,
  sdxlAddEmbedInputGpu,
  timestepEmbedding,
  uploadTimestepEmbedding,
} from './timestep-embedding';

// The embedding is computed on the CPU (see timestep-embedding.ts); on the GPU side it is an upload
// and, for SDXL's add_embedding input, a concat with the pooled text embeddings already on the GPU.
describe(`timestep embedding upload and SDXL add-embedding input on ${TEST_ADAPTER}`, () => {
  const u = readSafetensors('cases/unet_forward_per_sample_t.safetensors');
  const text = tensor(u, 'input.text_embeds');
  const timeIds = tensor(u, 'input.time_ids').data;
  const steps = tensor(u, 'input.timestep').data;

  it('uploads the f32 embedding unchanged and builds [text_embeds, time_embeds] on the GPU', async () => {
    const ctx = await testContext();
    const t = uploadTimestepEmbedding(ctx, steps, 320, SDXL_TIME_PROJ, 'f32');
    expect(t.shape).toEqual([steps.length, 320]);
    expect(Array.from(await ctx.read(t))).toEqual(Array.from(timestepEmbedding(steps, 320, SDXL_TIME_PROJ)));
    ctx.release(t);

    const textT = ctx.upload(text.data, text.shape, 'f32', 'text-embeds');
    const add = await checked(ctx, 'sdxl add-embed f32', () => sdxlAddEmbedInputGpu(ctx, textT, timeIds, 16));
    expect(add.shape).toEqual([2, 32 + 6 * 16]);
    expect(Array.from(await ctx.read(add))).toEqual(Array.from(sdxlAddEmbedInput(text.data, timeIds, 2, 16)));
    // SDXL's real sizes: 1280 pooled + 6·256.
    const big = ctx.upload(new Float32Array(2 * 1280).fill(0.5), [2, 1280], 'f32', 'text-embeds-1280');
    const addBig = await checked(ctx, 'sdxl add-embed 2816', () => sdxlAddEmbedInputGpu(ctx, big, timeIds, 256));
    expect(addBig.shape).toEqual([2, 2816]);
    const expected = sdxlAddEmbedInput(new Float32Array(2 * 1280).fill(0.5), timeIds, 2, 256);
    expect(Array.from(await ctx.read(addBig))).toEqual(Array.from(expected));
    ctx.release(textT, add, big, addBig);
  });

  it('stores f16 where shader-f16 exists, and refuses it where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      const t = uploadTimestepEmbedding(ctx, steps, 16, SDXL_TIME_PROJ, 'f16');
      expect(Array.from(await ctx.read(t))).toEqual(Array.from(roundToF16(timestepEmbedding(steps, 16, SDXL_TIME_PROJ))));
      const textT = ctx.upload(text.data, text.shape, 'f16', 'text-embeds-f16');
      const add = await checked(ctx, 'sdxl add-embed f16', () => sdxlAddEmbedInputGpu(ctx, textT, timeIds, 16));
      expect(add.dtype).toBe('f16');
      expect(Array.from(await ctx.read(add))).toEqual(Array.from(roundToF16(sdxlAddEmbedInput(text.data, timeIds, 2, 16))));
      ctx.release(t, textT, add);
    } else {
      expect(ctx.hasF16).toBe(false);
      expect(() => uploadTimestepEmbedding(ctx, steps, 16, SDXL_TIME_PROJ, 'f16')).toThrow(FeatureMissingError);
    }
  });
});
