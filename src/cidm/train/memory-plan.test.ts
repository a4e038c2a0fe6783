import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTextEncoderConfig, SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG } from '../../model/text-encoder/config';
import type { UNetConfigJson } from '../../model/unet/arch';
import { SDXL_BASE_UNET } from '../../model/unet/sdxl-configs';
import { planTrainingStep } from './memory-plan';

const json = (p: string) => JSON.parse(readFileSync(new URL(`../../../golden/models/${p}`, import.meta.url), 'utf8')) as unknown;

describe('CIDM training-step memory plan (the real step on a planning device)', () => {
  it('plans the tiny golden model', async () => {
    const plan = await planTrainingStep({
      unet: json('unet/config.json') as UNetConfigJson,
      encoders: [parseTextEncoderConfig(json('text_encoder/config.json')), parseTextEncoderConfig(json('text_encoder_2/config.json'))],
      width: 128,
      height: 128,
    });
    console.log(JSON.stringify(plan, null, 1));
  });
});
