/**
 * VAE (AutoencoderKL) tensors: the diffusers names and shapes from a VaeConfig, and the map to the
 * CompVis/SGM single-file names under `first_stage_model.` (diffusers convert_ldm_vae_checkpoint):
 *   encoder.down.{i}.block.{j} / .downsample.conv   <-> encoder.down_blocks.i.resnets.j / .downsamplers.0.conv
 *   decoder.up.{n-1-i}.block.{j} / .upsample.conv   <-> decoder.up_blocks.i.resnets.j / .upsamplers.0.conv
 *   {en,de}coder.mid.block_{1,2}                    <-> mid_block.resnets.{0,1}
 *   {en,de}coder.mid.attn_1.{norm,q,k,v,proj_out}   <-> mid_block.attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}
 *   nin_shortcut <-> conv_shortcut, norm_out <-> conv_norm_out
 * The LDM attention projections are 1×1 convs [C, C, 1, 1]; diffusers uses Linear [C, C] (same data).
 * Older diffusers VAEs name the attention query/key/value/proj_attn (see legacyVaeName).
 */
import type { VaeConfig } from '../config';
import type { TensorSpec } from './unet-diffusers';

export const LDM_VAE_PREFIX = 'first_stage_model.';

function push(out: TensorSpec[], p: string, w: number[], bias = true): void {
  out.push({ name: `${p}.weight`, shape: w });
  if (bias) out.push({ name: `${p}.bias`, shape: [w[0]!] });
}

function resnet(out: TensorSpec[], p: string, cin: number, cout: number): void {
  push(out, `${p}.norm1`, [cin]);
  push(out, `${p}.conv1`, [cout, cin, 3, 3]);
  push(out, `${p}.norm2`, [cout]);
  push(out, `${p}.conv2`, [cout, cout, 3, 3]);
  if (cin !== cout) push(out, `${p}.conv_shortcut`, [cout, cin, 1, 1]);
}

function mid(out: TensorSpec[], p: string, c: number): void {
  resnet(out, `${p}.mid_block.resnets.0`, c, c);
  const a = `${p}.mid_block.attentions.0`;
  push(out, `${a}.group_norm`, [c]);
  for (const proj of ['to_q', 'to_k', 'to_v', 'to_out.0']) push(out, `${a}.${proj}`, [c, c]);
  resnet(out, `${p}.mid_block.resnets.1`, c, c);
}

/** Every AutoencoderKL parameter of `c` (diffusers names, current attention naming). */
export function vaeTensorSpecs(c: VaeConfig): TensorSpec[] {
  const out: TensorSpec[] = [];
  const ch = c.blockOutChannels;
  const n = ch.length;
  const last = ch[n - 1]!;
  push(out, 'encoder.conv_in', [ch[0]!, c.inChannels, 3, 3]);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c.layersPerBlock; j++) resnet(out, `encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? ch[Math.max(i - 1, 0)]! : ch[i]!, ch[i]!);
    if (i < n - 1) push(out, `encoder.down_blocks.${i}.downsamplers.0.conv`, [ch[i]!, ch[i]!, 3, 3]);
  }
  mid(out, 'encoder', last);
  push(out, 'encoder.conv_norm_out', [last]);
  push(out, 'encoder.conv_out', [2 * c.latentChannels, last, 3, 3]);
  push(out, 'quant_conv', [2 * c.latentChannels, 2 * c.latentChannels, 1, 1]);
  push(out, 'post_quant_conv', [c.latentChannels, c.latentChannels, 1, 1]);
  push(out, 'decoder.conv_in', [last, c.latentChannels, 3, 3]);
  mid(out, 'decoder', last);
  const rev = [...ch].reverse();
  let prev = last;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= c.layersPerBlock; j++) resnet(out, `decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? prev : rev[i]!, rev[i]!);
    if (i < n - 1) push(out, `decoder.up_blocks.${i}.upsamplers.0.conv`, [rev[i]!, rev[i]!, 3, 3]);
    prev = rev[i]!;
  }
  push(out, 'decoder.conv_norm_out', [ch[0]!]);
  push(out, 'decoder.conv_out', [c.outChannels, ch[0]!, 3, 3]);
  return out;
}

const ATTN: Record<string, string> = { group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' };

/** One diffusers VAE name -> LDM name (without LDM_VAE_PREFIX). */
export function diffusersToLdmVaeName(name: string, c: VaeConfig): string {
  const n = c.blockOutChannels.length;
  let m: RegExpExecArray | null;
  let s = name.replace(/\.conv_shortcut\./, '.nin_shortcut.').replace(/\.conv_norm_out\./, '.norm_out.');
  if ((m = /^(encoder|decoder)\.mid_block\.resnets\.(\d)\.(.*)$/.exec(s))) return `${m[1]}.mid.block_${+m[2]! + 1}.${m[3]}`;
  if ((m = /^(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(weight|bias)$/.exec(s))) {
    return `${m[1]}.mid.attn_1.${ATTN[m[2]!]}.${m[3]}`;
  }
  s = s.replace(/^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\./, 'encoder.down.$1.block.$2.');
  s = s.replace(/^encoder\.down_blocks\.(\d+)\.downsamplers\.0\./, 'encoder.down.$1.downsample.');
  s = s.replace(/^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\./, (_, i: string, j: string) => `decoder.up.${n - 1 - +i}.block.${j}.`);
  s = s.replace(/^decoder\.up_blocks\.(\d+)\.upsamplers\.0\./, (_, i: string) => `decoder.up.${n - 1 - +i}.upsample.`);
  return s;
}

/** Shape the LDM file stores for a diffusers VAE tensor (attention projections are 1×1 convs there). */
export function ldmVaeShape(name: string, shape: readonly number[]): number[] {
  return /\.mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(name) ? [...shape, 1, 1] : [...shape];
}

/** Current diffusers name for a VAE name of diffusers < 0.14 (query/key/value/proj_attn), else the name. */
export function legacyVaeName(name: string): string {
  return name
    .replace(/(\.mid_block\.attentions\.0)\.query\./, '$1.to_q.')
    .replace(/(\.mid_block\.attentions\.0)\.key\./, '$1.to_k.')
    .replace(/(\.mid_block\.attentions\.0)\.value\./, '$1.to_v.')
    .replace(/(\.mid_block\.attentions\.0)\.proj_attn\./, '$1.to_out.0.');
}
