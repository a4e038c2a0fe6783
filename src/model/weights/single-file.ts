/**
 * Single-file checkpoints (one .safetensors holding UNet, VAE and text encoders, as Stability and
 * most model sites ship them) -> per-component mappings onto the canonical diffusers/transformers
 * names, checked against the expected UNet and VAE tensors before anything is read. Layouts:
 *   SDXL (SGM):  model.diffusion_model.*, first_stage_model.*, conditioner.embedders.0.transformer.*
 *                (CLIP-L), conditioner.embedders.1.model.* (OpenCLIP-bigG)
 *   SD-1.5 (LDM): model.diffusion_model.*, first_stage_model.*, cond_stage_model.transformer.* (CLIP-L)
 */
import { parseUNetConfig, parseVaeConfig, type UNetConfig, type VaeConfig } from '../config';
import { ModelFileError } from '../errors';
import type { SafetensorsFile } from '../safetensors/reader';
import { parseTextEncoderConfig } from '../text-encoder/config';
import { textEncoderWeightShapes } from '../text-encoder/weights';
import { mapClipL, mapOpenClipG } from './clip-sgm';
import { inferSingleFileConfigs, type SingleFileConfigs } from './infer-config';
import { mappedShape, type Component, type WeightMapping } from './mapping';
import { checkAgainstSpecs, unetTensorSpecs } from './unet-diffusers';
import { sgmUNetNameMap } from './unet-sgm';
import { diffusersToLdmVaeName, LDM_VAE_PREFIX, ldmVaeShape, legacyVaeName, vaeTensorSpecs } from './vae-ldm';
import type { SingleFileKind } from './single-file-kind';

export { detectSingleFileKind, type SingleFileKind } from './single-file-kind';

export interface SingleFilePlan {
  readonly kind: SingleFileKind;
  /** Components the file holds (a UNet always; some files leave out the VAE or text encoders). */
  readonly components: readonly Component[];
  readonly mappings: readonly WeightMapping[];
  /** File tensors no mapping reads (EMA copies, position_ids, logit_scale, …). */
  readonly unused: readonly string[];
  /** The configs read off the tensors (infer-config.ts); `unet`/`vae` options replace theirs. */
  readonly configs: SingleFileConfigs;
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
 * Plans the load of a single-file checkpoint. `unet` / `vae` default to the configs read off the
 * file's tensor shapes (infer-config.ts); the UNet (and the VAE, when present) must match them exactly,
 * and the text encoders' widths must be what the UNet attends to.
 */
export function planSingleFile(file: SafetensorsFile, opts: { unet?: UNetConfig; vae?: VaeConfig } = {}): SingleFilePlan {
  const configs = inferSingleFileConfigs(file);
  const kind = configs.kind;
  const unet = opts.unet ?? parseUNetConfig(configs.unet, `${file.name} (UNet config read off its tensors)`);
  const vae = opts.vae ?? (configs.vae ? parseVaeConfig(configs.vae, `${file.name} (VAE config read off its tensors)`) : undefined);
  const names = file.names();
  const mappings: WeightMapping[] = [];
  const components: Component[] = ['unet'];

  const { toSource } = sgmUNetNameMap(unet);
  const unetMaps = [...toSource].map(([target, source]) => ({ component: 'unet' as const, target, source }));
  check(file, unetMaps, unetTensorSpecs(unet));
  mappings.push(...unetMaps);

  if (vae && names.some((n) => n.startsWith(LDM_VAE_PREFIX))) {
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
  checkTextEncoders(file, mappings, configs);
  checkTextWidths(file.name, unet, configs);
  const used = new Set(mappings.map((m) => m.source));
  return { kind, components, mappings, unused: names.filter((n) => !used.has(n)), configs };
}

/** Every text-encoder parameter its config (read off the file) implies is in the file with that shape. */
function checkTextEncoders(file: SafetensorsFile, mappings: readonly WeightMapping[], c: SingleFileConfigs): void {
  const slots = [['text_encoder', c.textEncoder, false], ['text_encoder_2', c.textEncoder2, true]] as const;
  for (const [component, json, withProjection] of slots) {
    if (!json) continue;
    const config = parseTextEncoderConfig(json, { file: `${file.name} (${component} config read off its tensors)`, withProjection });
    const specs = [...textEncoderWeightShapes(config)].map(([name, shape]) => ({ name, shape }));
    check(file, mappings.filter((m) => m.component === component), specs);
  }
}

/**
 * SDXL's UNet attends to CLIP-L and OpenCLIP-bigG hidden states side by side (768 + 1280 = 2048) and
 * adds bigG's pooled projection to its time embedding; SD-1.5's attends to CLIP-L alone (768).
 */
function checkTextWidths(file: string, unet: UNetConfig, c: SingleFileConfigs): void {
  const widths = [c.textEncoder, c.textEncoder2].filter((t) => t !== undefined).map((t) => t.hidden_size as number);
  if (widths.length !== (c.kind === 'sdxl' ? 2 : 1)) return; // a file without its text encoders: nothing to compare
  const width = widths.reduce((a, b) => a + b, 0);
  if (unet.crossAttentionDim.some((d) => d !== width)) {
    throw new ModelFileError('wrong-model', file, `the UNet attends to ${unet.crossAttentionDim[0]}-wide text, but the file's text encoders give ${widths.join(' + ')}`);
  }
}

/** The plan's mappings for one component, in file order (ascending offsets: streaming-friendly). */
export function componentMappings(file: SafetensorsFile, plan: SingleFilePlan, component: Component): WeightMapping[] {
  const order = new Map(file.names().map((n, i) => [n, i]));
  return plan.mappings.filter((m) => m.component === component).sort((a, b) => order.get(a.source)! - order.get(b.source)!);
}
