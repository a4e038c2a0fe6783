import { readFileSync } from 'node:fs';
import { it } from 'vitest';
import { parseTextEncoderConfig } from '../../model/text-encoder/config';
import type { UNetConfigJson } from '../../model/unet/arch';
import { planTrainingStep } from './memory-plan';
const json = (p: string) => JSON.parse(readFileSync(new URL(`../../../golden/models/${p}`, import.meta.url), 'utf8')) as unknown;
for (const checkpointing of [true, false]) for (const dtype of ['f32', 'f16'] as const)
it(`tiny ${checkpointing} ${dtype}`, async () => {
  try {
    const plan = await planTrainingStep({ checkpointing, dtype, unet: json('unet/config.json') as UNetConfigJson, encoders: [parseTextEncoderConfig(json('text_encoder/config.json')), parseTextEncoderConfig(json('text_encoder_2/config.json'))], width: 128, height: 128 });
    console.log('OK', plan.peakBytes, plan.dispatches, plan.violations);
  } catch (e) { console.log("ERR", (e as Error).message); }
});
