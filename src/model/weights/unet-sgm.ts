/**
 * UNet names of single-file checkpoints (CompVis LDM for SD-1.5, Stability's SGM for SDXL: both use
 * openaimodel.py's UNetModel, keys under `model.diffusion_model.`) <-> diffusers names.
 *
 * LDM numbering, as diffusers' convert_ldm_unet_checkpoint reads it:
 *   input_blocks.0.0           conv_in
 *   input_blocks.k.{0,1}       level i, layer j: k = 1 + Σ_{l<i}(L_l + 1) + j; .0 resnet, .1 transformer
 *   input_blocks.k.0.op        level i's downsampler, k = 1 + Σ_{l<i}(L_l + 1) + L_i (all but the last level)
 *   middle_block.{0,1,2}       resnet, transformer, resnet
 *   output_blocks.k.{0,1,2}    up level i, layer j: k = Σ_{l<i}(L'_l + 1) + j with L'_l + 1 layers per
 *                              level; .0 resnet, .1 transformer; the upsampler sits in the level's last
 *                              layer at .1 (no transformer) or .2 (after one)
 *   time_embed.{0,2}, label_emb.0.{0,2} (SDXL add_embedding), out.{0,2} (conv_norm_out, conv_out)
 * Inside a resnet: in_layers.0 norm1, in_layers.2 conv1, emb_layers.1 time_emb_proj, out_layers.0 norm2,
 * out_layers.3 conv2, skip_connection conv_shortcut. Transformer internals have the same names in both.
 */
import type { UNetConfig } from '../config';
import { unetTensorSpecs } from './unet-diffusers';

export const SGM_UNET_PREFIX = 'model.diffusion_model.';

const RESNET: Record<string, string> = {
  norm1: 'in_layers.0',
  conv1: 'in_layers.2',
  time_emb_proj: 'emb_layers.1',
  norm2: 'out_layers.0',
  conv2: 'out_layers.3',
  conv_shortcut: 'skip_connection',
};

const TOP: Record<string, string> = {
  conv_in: 'input_blocks.0.0',
  'time_embedding.linear_1': 'time_embed.0',
  'time_embedding.linear_2': 'time_embed.2',
  'add_embedding.linear_1': 'label_emb.0.0',
  'add_embedding.linear_2': 'label_emb.0.2',
  conv_norm_out: 'out.0',
  conv_out: 'out.2',
};

function resnetInner(rest: string, name: string): string {
  const dot = rest.indexOf('.');
  const sgm = RESNET[rest.slice(0, dot)];
  if (!sgm) throw new Error(`unet-sgm: no LDM name for resnet parameter ${name}`);
  return `${sgm}${rest.slice(dot)}`;
}

/** Start index of each level in input_blocks (after conv_in) and in output_blocks. */
function levelStarts(c: UNetConfig): { down: number[]; up: number[] } {
  const down: number[] = [];
  const up: number[] = [];
  let k = 1;
  for (const l of c.layersPerBlock) {
    down.push(k);
    k += l + 1;
  }
  k = 0;
  for (const l of [...c.layersPerBlock].reverse()) {
    up.push(k);
    k += l + 1;
  }
  return { down, up };
}

/** Maps one diffusers UNet parameter name to its LDM/SGM name (without SGM_UNET_PREFIX). */
export function diffusersToSgmUNetName(name: string, c: UNetConfig): string {
  const { down, up } = levelStarts(c);
  let m = /^(.*)\.(weight|bias)$/.exec(name);
  const top = m ? TOP[m[1]!] : undefined;
  if (m && top) return `${top}.${m[2]}`;
  if ((m = /^down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)$/.exec(name))) {
    const k = down[+m[1]!]! + +m[3]!;
    return m[2] === 'resnets' ? `input_blocks.${k}.0.${resnetInner(m[4]!, name)}` : `input_blocks.${k}.1.${m[4]}`;
  }
  if ((m = /^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.*)$/.exec(name))) {
    const i = +m[1]!;
    return `input_blocks.${down[i]! + c.layersPerBlock[i]!}.0.op.${m[2]}`;
  }
  if ((m = /^mid_block\.resnets\.(\d)\.(.*)$/.exec(name))) return `middle_block.${2 * +m[1]!}.${resnetInner(m[2]!, name)}`;
  if ((m = /^mid_block\.attentions\.0\.(.*)$/.exec(name))) return `middle_block.1.${m[1]}`;
  if ((m = /^up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)$/.exec(name))) {
    const k = up[+m[1]!]! + +m[3]!;
    return m[2] === 'resnets' ? `output_blocks.${k}.0.${resnetInner(m[4]!, name)}` : `output_blocks.${k}.1.${m[4]}`;
  }
  if ((m = /^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.*)$/.exec(name))) {
    const i = +m[1]!;
    const layers = c.layersPerBlock[c.layersPerBlock.length - 1 - i]! + 1;
    const slot = c.upBlockTypes[i] === 'CrossAttnUpBlock2D' ? 2 : 1;
    return `output_blocks.${up[i]! + layers - 1}.${slot}.conv.${m[2]}`;
  }
  throw new Error(`unet-sgm: no LDM name for ${name}`);
}

export interface NamePairs {
  /** diffusers name -> single-file name. */
  readonly toSource: ReadonlyMap<string, string>;
  /** single-file name -> diffusers name. */
  readonly toDiffusers: ReadonlyMap<string, string>;
}

/**
 * The complete UNet name map for `c`, over every parameter unetTensorSpecs lists; single-file names
 * include `prefix` (SGM_UNET_PREFIX by default; '' for a bare LDM UNet state dict).
 */
export function sgmUNetNameMap(c: UNetConfig, prefix = SGM_UNET_PREFIX): NamePairs {
  const toSource = new Map<string, string>();
  const toDiffusers = new Map<string, string>();
  for (const { name } of unetTensorSpecs(c)) {
    const sgm = prefix + diffusersToSgmUNetName(name, c);
    const clash = toDiffusers.get(sgm);
    if (clash !== undefined) throw new Error(`unet-sgm: ${name} and ${clash} both map to ${sgm}`);
    toSource.set(name, sgm);
    toDiffusers.set(sgm, name);
  }
  return { toSource, toDiffusers };
}
