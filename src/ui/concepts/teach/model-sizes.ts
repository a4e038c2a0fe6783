/**
 * The training sizes of a stored model, from its own configs (never a hard-coded 512/1024 only): the
 * UNet's sample_size × the VAE's downscale is its native side; every side must be a multiple of the
 * VAE's downscale × the UNet's (2 per down block after the first). A single-file checkpoint carries no
 * configs: its kind's standard ones are used (SDXL 128 × 8 = 1024, SD-1.5 64 × 8 = 512).
 */
import { readJson } from '../../../model/model-files';
import { getModel, modelFiles } from '../../../storage/models/store';
import type { ModelSizes } from './validation';

interface UnetJson {
  sample_size?: number;
  down_block_types?: unknown[];
}
interface VaeJson {
  block_out_channels?: unknown[];
}

/** Sizes from the configs' JSON (defaults: SDXL's). */
export function modelSizesOf(unet: UnetJson | null, vae: VaeJson | null, kind: 'sdxl' | 'sd15' = 'sdxl'): ModelSizes {
  const sample = unet?.sample_size ?? (kind === 'sd15' ? 64 : 128);
  const down = Math.max(1, unet?.down_block_types?.length ?? (kind === 'sd15' ? 4 : 3));
  const vaeFactor = 2 ** Math.max(0, (vae?.block_out_channels?.length ?? 4) - 1);
  return { native: sample * vaeFactor, grid: vaeFactor * 2 ** (down - 1) };
}

/** A stored model's sizes (its configs when it has them). */
export async function readModelSizes(id: string): Promise<ModelSizes> {
  const m = await getModel(id);
  const files = await modelFiles(id);
  const json = async <T,>(path: string): Promise<T | null> => ((await files.exists(path)) ? readJson<T>(files, path) : null);
  return modelSizesOf(await json<UnetJson>('unet/config.json'), await json<VaeJson>('vae/config.json'), m.kind);
}
