import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { numel } from '../../gpu/tensor';
import { parseTextEncoderConfig, SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG, type TextEncoderConfig } from '../../model/text-encoder/config';
import { textEncoderWeightShapes } from '../../model/text-encoder/weights';
import { unetArch, type UNetConfigJson } from '../../model/unet/arch';
import { SDXL_BASE_UNET } from '../../model/unet/sdxl-configs';
import { unetWeightShapes } from '../../model/unet/weight-shapes';
import { planTrainingStep, planningCaption, TRAIN_PHASES, type TrainPlan } from './memory-plan';

const GIB = 2 ** 30;
const json = (p: string) => JSON.parse(readFileSync(new URL(`../../../golden/models/${p}`, import.meta.url), 'utf8')) as unknown;
const TINY_UNET = json('unet/config.json') as UNetConfigJson;
const TINY_ENCODERS: TextEncoderConfig[] = [parseTextEncoderConfig(json('text_encoder/config.json')), parseTextEncoderConfig(json('text_encoder_2/config.json'))];

/** Parameters × bytes, each tensor padded to 4 bytes (what ctx.persistent allocates). */
const weightBytes = (shapes: Iterable<number[]>, bytes: number) => {
  let n = 0;
  for (const s of shapes) n += Math.max(4, Math.ceil((numel(s) * bytes) / 4) * 4);
  return n;
};

function expectConsistent(p: TrainPlan): void {
  const resident = p.unetWeightBytes + p.textEncoderWeightBytes + p.trainableBytes;
  expect(p.peakBytes).toBeGreaterThanOrEqual(resident + p.poolInUsePeakBytes);
  expect(p.activationPeakBytes).toBe(p.peakBytes - resident);
  expect(p.poolFootprintBytes).toBeGreaterThanOrEqual(p.poolInUsePeakBytes);
  expect(p.savedAtBackwardBytes).toBeGreaterThan(0);
  expect(p.backwardExtraBytes).toBeGreaterThanOrEqual(0);
  expect(p.largestBinding.bytes).toBeGreaterThan(0);
  expect(p.dispatches).toBeGreaterThan(0);
  expect(TRAIN_PHASES.reduce((s, ph) => s + p.phases[ph].dispatches, 0)).toBe(p.dispatches);
  expect(p.phases.backward.dispatches).toBeGreaterThan(p.phases.forward.dispatches);
  expect(p.phases.optimizer.dispatches).toBeGreaterThan(0);
  // Everything the step allocated is back in the pool, and nothing it did would be refused.
  expect(p.leaked).toEqual([]);
  expect(p.violations).toEqual([]);
}

describe('CIDM training-step memory plan (the real step on a planning device)', () => {
  it('plans the tiny golden model at 128² in f32 and f16', async () => {
    for (const [dtype, bytes] of [['f32', 4], ['f16', 2]] as const) {
      const p = await planTrainingStep({ unet: TINY_UNET, encoders: TINY_ENCODERS, width: 128, height: 128, dtype });
      expectConsistent(p);
      expect(p.unetWeightBytes).toBe(weightBytes(unetWeightShapes(unetArch(TINY_UNET)).values(), bytes));
      expect(p.textEncoderWeightBytes).toBeGreaterThanOrEqual(TINY_ENCODERS.reduce((s, c) => s + weightBytes(textEncoderWeightShapes(c).values(), bytes), 0));
      // f32 masters: param, grad and both moments of every LoRA and token tensor
      expect(p.trainableBytes % (4 * 256)).toBe(0);
      expect(p.trainableBytes).toBeGreaterThan(0);
    }
    // two whole planning runs of a training step: ~4 s alone, over 5 s on a loaded 2-core machine
  }, 30_000);

  it('sees checkpointing: without it the backward starts with more held', async () => {
    const on = await planTrainingStep({ unet: TINY_UNET, encoders: TINY_ENCODERS, width: 128, height: 128 });
    const off = await planTrainingStep({ unet: TINY_UNET, encoders: TINY_ENCODERS, width: 128, height: 128, checkpointing: false });
    expectConsistent(off);
    expect(off.savedAtBackwardBytes).toBeGreaterThan(on.savedAtBackwardBytes);
    // checkpointing runs every block's forward twice
    expect(on.dispatches).toBeGreaterThan(off.dispatches);
  });

  it('writes the placeholders into a 77-id caption', () => {
    const ids = planningCaption(49408, 2, 49407);
    expect(ids).toHaveLength(77);
    expect(ids.filter((i) => i >= 49408)).toEqual([49408, 49409]);
  });

  it('fits the SDXL 512² step (batch 1, f16) in 7.5 GiB with no binding over 128 MiB', async () => {
    const p = await planTrainingStep({ unet: SDXL_BASE_UNET, encoders: [SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG], width: 512, height: 512 });
    expectConsistent(p);
    // 2,567,463,684 UNet parameters × 2 bytes, each tensor padded to 4 bytes
    expect(p.unetWeightBytes).toBeGreaterThanOrEqual(2_567_463_684 * 2);
    expect(p.largestBinding.bytes).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(p.peakBytes).toBeLessThanOrEqual(7.5 * GIB);
  });

  it('fits the SDXL 1024² step (batch 1, f16) in 9 GiB with no binding over 128 MiB', async () => {
    const p = await planTrainingStep({ unet: SDXL_BASE_UNET, encoders: [SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG], width: 1024, height: 1024 });
    expectConsistent(p);
    expect(p.largestBinding.bytes).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(p.peakBytes).toBeLessThanOrEqual(9 * GIB);
  });
});
