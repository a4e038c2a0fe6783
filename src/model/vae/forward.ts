/**
 * The AutoencoderKL forward (diffusers 0.25 `AutoencoderKL.encode` / `.decode`, models/autoencoders/vae.py),
 * written once over a VaeBackend so the GPU run and the memory plan are the same code. Every function
 * consumes the tensor it is given unless it says otherwise; weights are never released.
 */
import type { TensorRef } from '../unet/backend';
import type { VaeArch, VaeDownBlockArch, VaeMidArch, VaeResnetArch, VaeUpBlockArch } from './arch';
import type { VaeBackend } from './backend';

/** Called with named intermediates (the golden case's `intermediate.*` names); must not release them. */
export type VaeTap<T> = (name: string, t: T) => void | Promise<void>;

/**
 * ResnetBlock2D without time embedding (temb_channels None, output_scale_factor 1):
 * out = shortcut(x) + conv2(silu(gn2(conv1(silu(gn1(x)))))). Consumes x.
 */
export async function vaeResnet<T extends TensorRef>(be: VaeBackend<T>, arch: VaeArch, r: VaeResnetArch, x: T): Promise<T> {
  const w = (n: string) => be.weight(`${r.prefix}.${n}`);
  const g = { groups: arch.groups, eps: arch.eps, silu: true };
  const a = await be.groupNorm(x, w('norm1.weight'), w('norm1.bias'), g);
  const c1 = await be.conv2d(a, w('conv1.weight'), w('conv1.bias'), { stride: 1, padding: 1 });
  be.release(a);
  const b = await be.groupNorm(c1, w('norm2.weight'), w('norm2.bias'), g);
  be.release(c1);
  const shortcut = r.shortcut ? await be.conv2d(x, w('conv_shortcut.weight'), w('conv_shortcut.bias'), { stride: 1, padding: 0 }) : x;
  if (r.shortcut) be.release(x);
  const out = await be.conv2d(b, w('conv2.weight'), w('conv2.bias'), { stride: 1, padding: 1, residual: shortcut });
  be.release(b, shortcut);
  return out;
}

/**
 * The mid block's Attention (_from_deprecated_attn_block): GroupNorm(eps 1e-6) → tokens → one head of
 * dim C over H·W tokens (scale 1/√C) with biased q/k/v/out → back to NCHW → + x (residual_connection,
 * rescale_output_factor 1). Consumes x.
 */
export async function vaeAttention<T extends TensorRef>(be: VaeBackend<T>, arch: VaeArch, prefix: string, x: T): Promise<T> {
  const w = (n: string) => be.weight(`${prefix}.${n}`);
  const [, , H, W] = x.shape as [number, number, number, number];
  const n = await be.groupNorm(x, w('group_norm.weight'), w('group_norm.bias'), { groups: arch.groups, eps: arch.eps, silu: false });
  const tok = await be.toTokens(n);
  be.release(n);
  const q = await be.linear(tok, w('to_q.weight'), w('to_q.bias'));
  const k = await be.linear(tok, w('to_k.weight'), w('to_k.bias'));
  const v = await be.linear(tok, w('to_v.weight'), w('to_v.bias'));
  be.release(tok);
  const a = await be.attention(q, k, v, 1);
  be.release(q, k, v);
  const o = await be.linear(a, w('to_out.0.weight'), w('to_out.0.bias'));
  be.release(a);
  // tokens → NCHW with the residual added in the same pass
  const out = await be.fromTokens(o, H, W, x);
  be.release(o, x);
  return out;
}

/** UNetMidBlock2D without temb: resnet → attention → resnet. Consumes x. */
export async function vaeMid<T extends TensorRef>(be: VaeBackend<T>, arch: VaeArch, m: VaeMidArch, x: T): Promise<T> {
  let h = await vaeResnet(be, arch, m.resnets[0], x);
  h = await vaeAttention(be, arch, m.attention, h);
  return vaeResnet(be, arch, m.resnets[1], h);
}

/** UpDecoderBlock2D: resnets, then Upsample2D (nearest 2×, conv 3×3) unless last. Consumes x. */
export async function vaeUpBlock<T extends TensorRef>(be: VaeBackend<T>, arch: VaeArch, block: VaeUpBlockArch, x: T): Promise<T> {
  let h = x;
  for (const r of block.resnets) h = await vaeResnet(be, arch, r, h);
  if (!block.upsample) return h;
  const up = await be.upsampleNearest(h, 2 * h.shape[2]!, 2 * h.shape[3]!);
  be.release(h);
  const out = await be.conv2d(up, be.weight(`${block.upsample}.weight`), be.weight(`${block.upsample}.bias`), { stride: 1, padding: 1 });
  be.release(up);
  return out;
}

/** DownEncoderBlock2D: resnets, then Downsample2D (pad (0,1,0,1), conv 3×3 stride 2) unless last. Consumes x. */
export async function vaeDownBlock<T extends TensorRef>(be: VaeBackend<T>, arch: VaeArch, block: VaeDownBlockArch, x: T): Promise<T> {
  let h = x;
  for (const r of block.resnets) h = await vaeResnet(be, arch, r, h);
  if (!block.downsample) return h;
  const out = await be.downsampleConv(h, be.weight(`${block.downsample}.weight`), be.weight(`${block.downsample}.bias`));
  be.release(h);
  return out;
}

/** conv_norm_out (GroupNorm eps 1e-6) → SiLU → conv_out. Consumes x. */
async function outHead<T extends TensorRef>(be: VaeBackend<T>, arch: VaeArch, part: 'encoder' | 'decoder', x: T): Promise<T> {
  const n = await be.groupNorm(x, be.weight(`${part}.conv_norm_out.weight`), be.weight(`${part}.conv_norm_out.bias`), { groups: arch.groups, eps: arch.eps, silu: true });
  be.release(x);
  const out = await be.conv2d(n, be.weight(`${part}.conv_out.weight`), be.weight(`${part}.conv_out.bias`), { stride: 1, padding: 1 });
  be.release(n);
  return out;
}

/**
 * AutoencoderKL.decode(z).sample: z [B, latent, h, w] in VAE latent space (NOT multiplied by the
 * scaling factor) → image [B, out, factor·h, factor·w], unclamped (≈ [-1, 1]). Does not consume z.
 */
export async function decoderForward<T extends TensorRef>(be: VaeBackend<T>, arch: VaeArch, z: T, tap?: VaeTap<T>): Promise<T> {
  const pq = await be.conv2d(z, be.weight('post_quant_conv.weight'), be.weight('post_quant_conv.bias'), { stride: 1, padding: 0 });
  await tap?.('post_quant_conv', pq);
  let h = await be.conv2d(pq, be.weight('decoder.conv_in.weight'), be.weight('decoder.conv_in.bias'), { stride: 1, padding: 1 });
  be.release(pq);
  await tap?.('decoder.conv_in', h);
  h = await vaeMid(be, arch, arch.decoder.mid, h);
  await tap?.('decoder.mid_block', h);
  for (const block of arch.decoder.up) {
    h = await vaeUpBlock(be, arch, block, h);
    await tap?.(block.prefix, h);
  }
  return outHead(be, arch, 'decoder', h);
}

/**
 * quant_conv(encoder(image)): image [B, in, H, W] in [-1, 1] → moments [B, 2·latent, ⌊H/f⌋, ⌊W/f⌋]
 * (mean ‖ logvar along channels, DiagonalGaussianDistribution's parameters). Does not consume image.
 */
export async function encoderForward<T extends TensorRef>(be: VaeBackend<T>, arch: VaeArch, image: T, tap?: VaeTap<T>): Promise<T> {
  let h = await be.conv2d(image, be.weight('encoder.conv_in.weight'), be.weight('encoder.conv_in.bias'), { stride: 1, padding: 1 });
  for (const block of arch.encoder.down) h = await vaeDownBlock(be, arch, block, h);
  h = await vaeMid(be, arch, arch.encoder.mid, h);
  const enc = await outHead(be, arch, 'encoder', h);
  await tap?.('encoder_out', enc);
  const moments = await be.conv2d(enc, be.weight('quant_conv.weight'), be.weight('quant_conv.bias'), { stride: 1, padding: 0 });
  be.release(enc);
  return moments;
}
