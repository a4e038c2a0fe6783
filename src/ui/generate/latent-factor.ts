/**
 * The active model's latent factor (diffusers' vae_scale_factor = 2^(len(block_out_channels) − 1)),
 * read from its own vae/config.json; a single-file checkpoint carries no config, so its kind's
 * standard VAE config is used (model/config.ts). Outpainting steps and init-image sizes use it.
 */
import { useEffect, useState } from 'react';
import { readJson } from '../../model/model-files';
import { SDXL_VAE_CONFIG } from '../../model/config';
import { modelFiles } from '../../storage/models/store';
import { latentFactorOf } from './edit-params';

const DEFAULT_FACTOR = latentFactorOf(SDXL_VAE_CONFIG.blockOutChannels);
const cache = new Map<string, number>();

export async function readLatentFactor(modelId: string): Promise<number> {
  const known = cache.get(modelId);
  if (known) return known;
  const files = await modelFiles(modelId);
  const vae = (await files.exists('vae/config.json')) ? await readJson<{ block_out_channels?: unknown[] }>(files, 'vae/config.json') : null;
  const factor = Array.isArray(vae?.block_out_channels) ? latentFactorOf(vae.block_out_channels) : DEFAULT_FACTOR;
  cache.set(modelId, factor);
  return factor;
}

/** The factor of `modelId` (SDXL's until it is read, or when there is no model). */
export function useLatentFactor(modelId: string | null): number {
  const [factor, setFactor] = useState(() => (modelId ? (cache.get(modelId) ?? DEFAULT_FACTOR) : DEFAULT_FACTOR));
  useEffect(() => {
    if (!modelId) return;
    let live = true;
    readLatentFactor(modelId).then((f) => live && setFactor(f), () => undefined);
    return () => {
      live = false;
    };
  }, [modelId]);
  return factor;
}
