import { it } from 'vitest';
import { SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG } from '../../model/text-encoder/config';
import { SDXL_BASE_UNET } from '../../model/unet/sdxl-configs';
import { planTrainingStep } from './memory-plan';

it('sdxl', async () => {
  const t = performance.now();
  try {
    const plan = await planTrainingStep({ unet: SDXL_BASE_UNET, encoders: [SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG], width: Number(process.env.SZ ?? 512), height: Number(process.env.SZ ?? 512) });
    console.log(JSON.stringify(plan, null, 1));
  } catch (e) { console.log("ERR", (e as Error).stack, performance.now() - t); }
}, 600000);
