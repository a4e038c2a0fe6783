/**
 * Single-file checkpoints (one .safetensors holding UNet, VAE and text encoders, as Stability and
 * most model sites ship them) -> per-component mappings onto the canonical diffusers/transformers
 * names, checked against the expected UNet and VAE tensors before anything is read. Layouts:
 *   SDXL (SGM):  model.diffusion_model.*, first_stage_model.*, conditioner.embedders.0.transformer.*
 *                (CLIP-L), conditioner.embedders.1.model.* (OpenCLIP-bigG)
 *   SD-1.5 (LDM): model.diffusion_model.*, first_stage_model.*, cond_stage_model.transformer.* (CLIP-L)
 */
import { SD15_UNET_CONFIG, SD15_VAE_CONFIG, SDXL_BASE_UNET_CONFIG, SDXL_VAE_CONFIG, type UNetConfig, type VaeConfig } from '../config';
import { ModelFileError } from '../errors';
import type { SafetensorsFile } from '../safetensors/reader';
import { mapClipL, mapOpenClipG } from './clip-sgm';
import { mappedShape, type Component, type WeightMapping } from './mapping';
import { checkAgainstSpecs, unetTensorSpecs } from './unet-diffusers';
import { SGM_UNET_PREFIX, sgmUNetNameMap } from './unet-sgm';
import { diffusersToLdmVaeName, LDM_VAE_PREFIX, ldmVaeShape, legacyVaeName, vaeTensorSpecs } from './vae-ldm';

export type SingleFileKind = 'sdxl' | 'sd15';

export interface SingleFilePlan {
  readonly kind: SingleFileKind;
  /** Components the file holds (a UNet always; some files leave out the VAE or text encoders). */
  readonly components: readonly Component[];
  readonly mappings: readonly WeightMapping[];
  /** File tensors no mapping reads (EMA copies, position_ids, logit_scale, …). */
  readonly unused: readonly string[];
}

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

/** Canonical -> source mappings for a diffusers folder component: identity (plus the old VAE attention names). */
export function folderMappings(file: SafetensorsFile, component: Component): WeightMapping[] {
  return file.names().map((source) => ({ component, source, target: component === 'vae' ? legacyVaeName(source) : source }));
}

function check(file: SafetensorsFile, mappings: readonly WeightMapping[], specs: ReturnType<typeof unetTensorSpecs>): void {
  const byTarget = new Map(mappings.map((m) => [m.target, m]));
  checkAgainstSpecs(file.name, specs, (name) => {
    const m = byTarget.get(name);
    return m && file.has(m.source) ? { shape: mappedShape(file, m) } : undefined;
  });
}

/**
 * Plans the load of a single-file checkpoint. `unet` / `vae` default to the SDXL base or SD-1.5
 * configs by the detected kind; the UNet (and the VAE, when present) must match them exactly.
 */
export function planSingleFile(file: SafetensorsFile, opts: { unet?: UNetConfig; vae?: VaeConfig } = {}): SingleFilePlan {
  const kind = detectSingleFileKind(file);
  const unet = opts.unet ?? (kind === 'sdxl' ? SDXL_BASE_UNET_CONFIG : SD15_UNET_CONFIG);
  const vae = opts.vae ?? (kind === 'sdxl' ? SDXL_VAE_CONFIG : SD15_VAE_CONFIG);
  const names = file.names();
  const mappings: WeightMapping[] = [];
  const components: Component[] = ['unet'];

  const { toSource } = sgmUNetNameMap(unet);
  const unetMaps = [...toSource].map(([target, source]) => ({ component: 'unet' as const, target, source }));
  check(file, unetMaps, unetTensorSpecs(unet));
  mappings.push(...unetMaps);

  if (names.some((n) => n.startsWith(LDM_VAE_PREFIX))) {
    const specs = vaeTensorSpecs(vae);
    const vaeMaps = specs.map(({ name, shape }): WeightMapping => {
      const stored = ldmVaeShape(name, shape);
      const source = LDM_VAE_PREFIX + diffusersToLdmVaeName(name, vae);
      // Reshape only when the file really holds the 1×1-conv form (some converted files store [C, C]).
      const info = file.get(source);
      const needsReshape = stored.length !== shape.length && info?.shape.length === stored.length;
      return needsReshape ? { component: 'vae', target: name, source, transform: { kind: 'reshape', shape } } : { component: 'vae', target: name, source };
    });
    check(file, vaeMaps, specs);
    mappings.push(...vaeMaps);
    components.push('vae');
  }
  const clipL = mapClipL(names);
  if (clipL.length > 0) {
    mappings.push(...clipL);
    components.push('text_encoder');
  }
  if (kind === 'sdxl') {
    const clipG = mapOpenClipG(names);
    if (clipG.length > 0) {
      mappings.push(...clipG);
      components.push('text_encoder_2');
    }
  }
  const used = new Set(mappings.map((m) => m.source));
  return { kind, components, mappings, unused: names.filter((n) => !used.has(n)) };
}

/** The plan's mappings for one component, in file order (ascending offsets: streaming-friendly). */
export function componentMappings(file: SafetensorsFile, plan: SingleFilePlan, component: Component): WeightMapping[] {
  const order = new Map(file.names().map((n, i) => [n, i]));
  return plan.mappings.filter((m) => m.component === component).sort((a, b) => order.get(a.source)! - order.get(b.source)!);
}
