/**
 * The VAE's structure (diffusers 0.25 AutoencoderKL: Encoder / Decoder of models/autoencoders/vae.py),
 * derived once from a VaeConfig: every block with its weight-name prefix and channel counts. The
 * forward, the loader and the memory plan all walk this one description.
 *
 *   encoder: conv_in → DownEncoderBlock2D × n (layers_per_block resnets, Downsample2D except the last)
 *            → UNetMidBlock2D (resnet, 1-head attention, resnet) → GN+SiLU → conv_out (2·latent) ; quant_conv
 *   decoder: post_quant_conv ; conv_in → mid → UpDecoderBlock2D × n (layers_per_block+1 resnets,
 *            Upsample2D except the last, reversed channels) → GN+SiLU → conv_out
 * Every VAE GroupNorm uses eps 1e-6 (resnet_eps / Attention eps in vae.py); no time embedding.
 */
import type { VaeConfig } from '../config';
import { vaeTensorSpecs } from '../weights/vae-ldm';

/** diffusers Encoder/Decoder: resnet_eps=1e-6, the mid attention's GroupNorm eps as well. */
export const VAE_NORM_EPS = 1e-6;

export interface VaeResnetArch {
  prefix: string;
  cin: number;
  cout: number;
  /** 1×1 conv_shortcut when cin != cout (use_in_shortcut). */
  shortcut: boolean;
}

export interface VaeMidArch {
  prefix: string;
  channels: number;
  resnets: [VaeResnetArch, VaeResnetArch];
  /** Attention(heads = 1, dim_head = channels), GroupNorm first, residual, bias on q/k/v/out. */
  attention: string;
}

export interface VaeDownBlockArch {
  prefix: string;
  resnets: VaeResnetArch[];
  /** Prefix of Downsample2D's conv (3×3 stride 2, pad (0,1,0,1)), null on the last block. */
  downsample: string | null;
}

export interface VaeUpBlockArch {
  prefix: string;
  resnets: VaeResnetArch[];
  /** Prefix of Upsample2D's conv (nearest 2× then 3×3), null on the last block. */
  upsample: string | null;
}

export interface VaeArch {
  config: VaeConfig;
  groups: number;
  eps: number;
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  scalingFactor: number;
  /** Image pixels per latent pixel along each axis: 2^(blocks - 1) (8 for SD/SDXL). */
  factor: number;
  encoder: { down: VaeDownBlockArch[]; mid: VaeMidArch; channels: number };
  decoder: { up: VaeUpBlockArch[]; mid: VaeMidArch; channels: number };
}

export type VaePart = 'encoder' | 'decoder';

function res(prefix: string, cin: number, cout: number): VaeResnetArch {
  return { prefix, cin, cout, shortcut: cin !== cout };
}

function mid(prefix: string, c: number): VaeMidArch {
  return {
    prefix,
    channels: c,
    resnets: [res(`${prefix}.resnets.0`, c, c), res(`${prefix}.resnets.1`, c, c)],
    attention: `${prefix}.attentions.0`,
  };
}

export function vaeArch(config: VaeConfig): VaeArch {
  const ch = config.blockOutChannels;
  const n = ch.length;
  if (n < 1) throw new RangeError('VAE config: block_out_channels is empty');
  for (const c of ch) {
    if (c % config.normNumGroups !== 0) throw new RangeError(`VAE config: ${c} channels do not split into ${config.normNumGroups} groups`);
  }
  const last = ch[n - 1]!;
  const down: VaeDownBlockArch[] = ch.map((c, i) => {
    const prefix = `encoder.down_blocks.${i}`;
    const resnets = Array.from({ length: config.layersPerBlock }, (_, j) => res(`${prefix}.resnets.${j}`, j === 0 ? ch[Math.max(i - 1, 0)]! : c, c));
    return { prefix, resnets, downsample: i < n - 1 ? `${prefix}.downsamplers.0.conv` : null };
  });
  const rev = [...ch].reverse();
  const up: VaeUpBlockArch[] = rev.map((c, i) => {
    const prefix = `decoder.up_blocks.${i}`;
    const prev = rev[Math.max(i - 1, 0)]!;
    const resnets = Array.from({ length: config.layersPerBlock + 1 }, (_, j) => res(`${prefix}.resnets.${j}`, j === 0 ? prev : c, c));
    return { prefix, resnets, upsample: i < n - 1 ? `${prefix}.upsamplers.0.conv` : null };
  });
  return {
    config,
    groups: config.normNumGroups,
    eps: VAE_NORM_EPS,
    inChannels: config.inChannels,
    outChannels: config.outChannels,
    latentChannels: config.latentChannels,
    scalingFactor: config.scalingFactor,
    factor: 2 ** (n - 1),
    encoder: { down, mid: mid('encoder.mid_block', last), channels: last },
    decoder: { up, mid: mid('decoder.mid_block', last), channels: last },
  };
}

/** Whether a canonical VAE tensor belongs to a part (quant_conv to the encoder, post_quant_conv to the decoder). */
export function vaeTensorPart(name: string): VaePart {
  return name.startsWith('encoder.') || name.startsWith('quant_conv.') ? 'encoder' : 'decoder';
}

/** Canonical (diffusers) name → shape of every tensor the given parts need, in vaeTensorSpecs order. */
export function vaeWeightShapes(config: VaeConfig, parts: readonly VaePart[] = ['encoder', 'decoder']): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of vaeTensorSpecs(config)) if (parts.includes(vaeTensorPart(s.name))) out.set(s.name, [...s.shape]);
  return out;
}
