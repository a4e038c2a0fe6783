/**
 * Which Stable Diffusion a single-file checkpoint is, by its tensor names (no data read): SDXL's SGM
 * layout has `conditioner.embedders.*` (and the UNet's `label_emb`), SD-1.5's LDM layout has neither.
 * Kept apart from single-file.ts so the config inference (infer-config.ts) can use it without a cycle.
 */
import { ModelFileError } from '../errors';
import type { SafetensorsFile } from '../safetensors/reader';
import { SGM_UNET_PREFIX } from './unet-sgm';

export type SingleFileKind = 'sdxl' | 'sd15';

/** Tells SDXL from SD-1.5 by the conditioner's names; anything else is `wrong-model`. */
export function detectSingleFileKind(file: SafetensorsFile): SingleFileKind {
  const names = file.names();
  const any = (p: string) => names.some((n) => n.startsWith(p));
  if (!any(SGM_UNET_PREFIX)) {
    throw new ModelFileError('wrong-model', file.name, `no tensor starts with "${SGM_UNET_PREFIX}": not a Stable Diffusion single-file checkpoint`);
  }
  if (any('conditioner.embedders.0.model.') || any('cond_stage_model.model.')) {
    throw new ModelFileError('wrong-model', file.name, 'this is an SDXL refiner or SD-2 checkpoint (OpenCLIP as the first text encoder), which is not supported');
  }
  if (any('conditioner.embedders.') || file.has(`${SGM_UNET_PREFIX}label_emb.0.0.weight`)) return 'sdxl';
  return 'sd15';
}
