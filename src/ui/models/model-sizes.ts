/**
 * The sizes of a stored model (Generate's and Scenes' presets, the training sizes), from its own configs (never a hard-coded 512/1024 only): the
 * UNet's sample_size × the VAE's downscale is its native side; every side must be a multiple of the
 * VAE's downscale × the UNet's (2 per down block after the first). A single-file checkpoint carries no
 * configs: its kind's standard ones are used (SDXL 128 × 8 = 1024, SD-1.5 64 × 8 = 512).
 */
import { useEffect, useState } from 'react';
import { readJson } from '../../model/model-files';
import { getModel, modelFiles } from '../../storage/models/store';
import type { ModelSizes } from '../concepts/teach/validation';

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

/** The SDXL defaults, shown until a model's configs are read (and when no model is chosen). */
export const DEFAULT_MODEL_SIZES: ModelSizes = modelSizesOf(null, null, 'sdxl');
const cache = new Map<string, ModelSizes>();

/** A model's sizes and the model they were read for (null while unread, or with no model: the SDXL defaults). */
export interface ResolvedModelSizes {
  modelId: string | null;
  sizes: ModelSizes;
}

const UNREAD: ResolvedModelSizes = { modelId: null, sizes: DEFAULT_MODEL_SIZES };

/** The sizes of `modelId`, read from its configs once and cached; SDXL's defaults until then. */
export function useModelSizes(modelId: string | null): ResolvedModelSizes {
  const known = (id: string | null): ResolvedModelSizes => {
    const s = id ? cache.get(id) : undefined;
    return id && s ? { modelId: id, sizes: s } : UNREAD;
  };
  const [state, setState] = useState<ResolvedModelSizes>(() => known(modelId));
  useEffect(() => {
    if (!modelId || cache.has(modelId)) {
      setState(known(modelId));
      return;
    }
    let live = true;
    readModelSizes(modelId).then(
      (sizes) => {
        cache.set(modelId, sizes);
        if (live) setState({ modelId, sizes });
      },
      () => undefined, // a model being removed: keep the last sizes
    );
    return () => {
      live = false;
    };
  }, [modelId]);
  return state;
}
