// The dispatch count of one UNet step (dispatch-count.ts) on the planning device: the tiny golden SDXL
// and the real SDXL-base config. Every weight matrix the step multiplies by is one dispatch at least,
// except that each self-attention's q/k/v are one matmul (fused-qkv.ts), so the count is bounded below
// by the matrices less two per attn1; it grows with depth, not with the image size.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UNetConfigJson } from './arch';
import { unetArch } from './arch';
import { countUNetStepDispatches, unetStepDispatches } from './dispatch-count';
import { selfAttentionPrefixes } from './fused-qkv';
import { GpuContext } from '../../gpu/context';
import { PlanningDevice, planningHandle } from '../../gpu/planning-device';
import { linear } from '../../ops/linear';
import { weightStorageDtype } from '../weights/storage-dtype';
import { SDXL_BASE_UNET } from './sdxl-configs';
import { unetWeightShapes } from './weight-shapes';

const tiny = JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as UNetConfigJson;

/** Linear and conv weights (2-D and 4-D): each is at least one matmul or conv dispatch. */
function matrixWeights(config: UNetConfigJson): number {
  return [...unetWeightShapes(unetArch(config))].filter(([name, shape]) => name.endsWith('.weight') && (shape.length === 2 || shape.length === 4)).length;
}

const attn1Count = (config: UNetConfigJson) => selfAttentionPrefixes(unetArch(config)).length;
/**
 * Transformer2DModels with linear projections (a 2-D proj_out): each ends tokens → NCHW + its input in
 * one dispatch (the residual as the transpose's epilogue), one fewer than the transpose and add of the
 * counts pinned before it (1542 unfused / 1402 fused q/k/v; packed 1632 / 1492).
 */
const linearProjectionTransformers = (config: UNetConfigJson) =>
  [...unetWeightShapes(unetArch(config))].filter(([name, shape]) => name.endsWith('.proj_out.weight') && shape.length === 2).length;
/** The attn2 to_k/to_v weights of a config (names and shapes). */
function kvWeights(config: UNetConfigJson): [string, number[]][] {
  return [...unetWeightShapes(unetArch(config))].filter(([name]) => /\.attn2\.to_[kv]\.weight$/.test(name));
}

/** Dispatches of every attn2's K and V projection of a [batch, 77, crossDim] context, run alone on a planning device. */
async function kvProjectionDispatches(config: UNetConfigJson, batch: number, dtype: 'f16' | 'f32', packWeights = false): Promise<number> {
  const dev = new PlanningDevice();
  const ctx = new GpuContext(planningHandle(dev));
  try {
    const before = dev.dispatches;
    for (const [name, shape] of kvWeights(config)) {
      // stored as sizedUNet stores it (packed f16 pairs under f32 math on the packed path)
      const w = ctx.persistentWeight(shape, weightStorageDtype(shape, dtype, packWeights), name);
      const x = ctx.empty([batch, 77, shape[1]!], dtype, 'context');
      ctx.release(await linear(ctx, x, w), x);
    }
    await ctx.flush();
    return dev.dispatches - before;
  } finally {
    ctx.destroy();
  }
}

/** Bytes of every attn2's cached K and V for a [batch, 77, ·] context. */
function kvCacheBytes(config: UNetConfigJson, batch: number, bytesPerValue: number): number {
  return kvWeights(config).reduce((b, [, shape]) => b + batch * 77 * shape[0]! * bytesPerValue, 0);
}

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
    const fusedAdds = linearProjectionTransformers(SDXL_BASE_UNET);
    expect(fusedAdds).toBe(11);
    expect(unfused).toBe(1542 - fusedAdds); // before the q/k/v fusion (README's memory plan)
    expect(n).toBe(unfused - 2 * attn1Count(SDXL_BASE_UNET));
    expect(n).toBe(1391);
  }, 60_000);

  it('counts the packed path (no shader-f16: packed f16 weights, f32 activations) the same way', async () => {
    const size = { width: 1024, height: 1024, batch: 2, dtype: 'f32' as const, packWeights: true };
    const n = await countUNetStepDispatches(SDXL_BASE_UNET, size);
    const unfused = await countUNetStepDispatches(SDXL_BASE_UNET, { ...size, fuseQkv: false });
    console.log(`[dispatches] SDXL-base 1024² CFG step, packed: ${n} (q/k/v unfused: ${unfused})`);
    expect(unfused).toBe(1632 - linearProjectionTransformers(SDXL_BASE_UNET));
    expect(n).toBe(unfused - 2 * attn1Count(SDXL_BASE_UNET));
    expect(n).toBe(1481);
  }, 60_000);

  it('counts SDXL-base at 1024² with CFG, first and steady-state step (printed by npm run memory-plan)', async () => {
    const n = await countUNetStepDispatches(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, dtype: 'f16' });
    expect(n).toBe(1391); // with fused q/k/v (the test above)
    const steady = await unetStepDispatches(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, dtype: 'f16', crossAttentionCache: true });
    const packedFirst = await countUNetStepDispatches(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, dtype: 'f32', packWeights: true });
    const packedSteady = await countUNetStepDispatches(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 2, dtype: 'f32', packWeights: true, crossAttentionCache: true });
    console.log(`[dispatches] SDXL-base 1024² CFG steady-state step (attn2 K/V cached): ${steady.total}, cache ${steady.kvCacheBytes} bytes; packed path ${packedFirst} → ${packedSteady}`);
    // exactly the attn2 K/V projections are gone (counted on their own below), nothing else changed
    const kv = await kvProjectionDispatches(SDXL_BASE_UNET, 2, 'f16');
    expect(n - steady.total).toBe(kv);
    expect(packedFirst - packedSteady).toBe(await kvProjectionDispatches(SDXL_BASE_UNET, 2, 'f32', true));
    expect(steady.kvCacheBytes).toBe(kvCacheBytes(SDXL_BASE_UNET, 2, 2));
    expect(steady.total).toBe(1111); // README: 1122 before the residual became the transpose's epilogue
    // two transposes per Transformer2DModel, and no separate add after the second
    expect(steady.byKernel.get('transpose')).toBe(2 * linearProjectionTransformers(SDXL_BASE_UNET));
  }, 60_000);

  it('a steady-state step of the tiny model saves its attn2 K/V projections', async () => {
    const first = await countUNetStepDispatches(tiny, { width: 64, height: 48, batch: 2, dtype: 'f32' });
    const steady = await unetStepDispatches(tiny, { width: 64, height: 48, batch: 2, dtype: 'f32', crossAttentionCache: true });
    expect(first - steady.total).toBe(await kvProjectionDispatches(tiny, 2, 'f32'));
    expect(steady.kvCacheBytes).toBe(kvCacheBytes(tiny, 2, 4));
  });
});
