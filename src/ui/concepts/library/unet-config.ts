/**
 * The UNet config of a stored model, for the kohya LoRA export (its layer names are SGM paths that
 * depend on the UNet's blocks, src/storage/concepts/interop.ts). Read from the model's own
 * unet/config.json in OPFS (a single-file checkpoint takes it from a stored diffusers model of its kind,
 * modelFiles' needs), as the engine's loader does; cached per model.
 */
import { parseUNetConfig, type UNetConfig } from '../../../model/config';
import { readJson } from '../../../model/model-files';
import { modelFiles } from '../../../storage/models/store';

export class ConceptModelMissingError extends Error {
  override readonly name = 'ConceptModelMissingError';
  readonly code = 'concept-model-missing';
  constructor(readonly modelId: string, why: string) {
    super(`The LoRA export needs the UNet of the model this concept was trained on ("${modelId}"), and ${why}. Import that model on the Models page, or export the concept file instead.`);
  }
}

const cache = new Map<string, Promise<UNetConfig>>();

export function unetConfigOf(modelId: string): Promise<UNetConfig> {
  let p = cache.get(modelId);
  if (!p) {
    p = (async () => {
      let files;
      try {
        files = await modelFiles(modelId);
      } catch {
        throw new ConceptModelMissingError(modelId, 'it is not in this studio');
      }
      return parseUNetConfig(await readJson(files, 'unet/config.json'), `${files.label}/unet/config.json`);
    })();
    p.catch(() => cache.delete(modelId));
    cache.set(modelId, p);
  }
  return p;
}
