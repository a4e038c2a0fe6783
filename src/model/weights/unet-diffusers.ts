/**
 * The canonical (diffusers folder) UNet parameter names and shapes, derived from a UNetConfig by
 * walking the module tree the way diffusers' UNet2DConditionModel builds it (unet_2d_condition.py,
 * unet_2d_blocks.py, resnet.py, transformer_2d.py, attention.py). It tells a loader exactly which
 * tensors to expect, lets a file be checked before anything is uploaded (missing-tensor / wrong-model),
 * gives the memory plan its sizes, and is the domain of the single-file (SGM) and kohya name maps.
 */
import type { UNetConfig } from '../config';
import { ModelFileError } from '../errors';
import type { TensorInfo } from '../safetensors/header';

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

type Out = TensorSpec[];

function linear(out: Out, p: string, o: number, i: number, bias = true): void {
  out.push({ name: `${p}.weight`, shape: [o, i] });
  if (bias) out.push({ name: `${p}.bias`, shape: [o] });
}
function conv(out: Out, p: string, o: number, i: number, k: number): void {
  out.push({ name: `${p}.weight`, shape: [o, i, k, k] }, { name: `${p}.bias`, shape: [o] });
}
function norm(out: Out, p: string, c: number): void {
  out.push({ name: `${p}.weight`, shape: [c] }, { name: `${p}.bias`, shape: [c] });
}

/** ResnetBlock2D: norm1, conv1 (3×3), time_emb_proj, norm2, conv2, and a 1×1 conv_shortcut when in ≠ out. */
function resnet(out: Out, p: string, cin: number, cout: number, temb: number): void {
  norm(out, `${p}.norm1`, cin);
  conv(out, `${p}.conv1`, cout, cin, 3);
  linear(out, `${p}.time_emb_proj`, cout, temb);
  norm(out, `${p}.norm2`, cout);
  conv(out, `${p}.conv2`, cout, cout, 3);
  if (cin !== cout) conv(out, `${p}.conv_shortcut`, cout, cin, 1);
}

/**
 * Transformer2DModel (continuous input): GroupNorm, proj_in (Linear, or 1×1 conv when
 * use_linear_projection is false), `depth` BasicTransformerBlocks, proj_out. In a block attn1 is
 * self-attention and attn2 cross-attention (k/v from the text width); q/k/v carry no bias
 * (attention_bias=False); the feed-forward is GEGLU with inner width 4·C (its proj doubles that).
 */
function transformer(out: Out, p: string, c: number, depth: number, cross: number, linearProj: boolean): void {
  norm(out, `${p}.norm`, c);
  const proj = (name: string) => (linearProj ? linear(out, `${p}.${name}`, c, c) : conv(out, `${p}.${name}`, c, c, 1));
  proj('proj_in');
  for (let t = 0; t < depth; t++) {
    const b = `${p}.transformer_blocks.${t}`;
    norm(out, `${b}.norm1`, c);
    for (const [attn, kv] of [['attn1', c], ['attn2', cross]] as const) {
      linear(out, `${b}.${attn}.to_q`, c, c, false);
      linear(out, `${b}.${attn}.to_k`, c, kv, false);
      linear(out, `${b}.${attn}.to_v`, c, kv, false);
      linear(out, `${b}.${attn}.to_out.0`, c, c);
      if (attn === 'attn1') norm(out, `${b}.norm2`, c);
    }
    norm(out, `${b}.norm3`, c);
    linear(out, `${b}.ff.net.0.proj`, 8 * c, c);
    linear(out, `${b}.ff.net.2`, c, 4 * c);
  }
  proj('proj_out');
}

/** Every UNet parameter of `c`, in module order. */
export function unetTensorSpecs(c: UNetConfig): TensorSpec[] {
  const out: Out = [];
  const ch = c.blockOutChannels;
  const n = ch.length;
  const temb = c.timeEmbedDim;
  conv(out, 'conv_in', ch[0]!, c.inChannels, c.convInKernel);
  linear(out, 'time_embedding.linear_1', temb, ch[0]!);
  linear(out, 'time_embedding.linear_2', temb, temb);
  if (c.additionEmbedType === 'text_time') {
    linear(out, 'add_embedding.linear_1', temb, c.projectionClassEmbeddingsInputDim!);
    linear(out, 'add_embedding.linear_2', temb, temb);
  }
  let cin = ch[0]!;
  for (let i = 0; i < n; i++) {
    const cout = ch[i]!;
    for (let j = 0; j < c.layersPerBlock[i]!; j++) {
      resnet(out, `down_blocks.${i}.resnets.${j}`, j === 0 ? cin : cout, cout, temb);
      if (c.downBlockTypes[i] === 'CrossAttnDownBlock2D') {
        transformer(out, `down_blocks.${i}.attentions.${j}`, cout, c.transformerLayersPerBlock[i]!, c.crossAttentionDim[i]!, c.useLinearProjection);
      }
    }
    if (i < n - 1) conv(out, `down_blocks.${i}.downsamplers.0.conv`, cout, cout, 3);
    cin = cout;
  }
  const last = ch[n - 1]!;
  resnet(out, 'mid_block.resnets.0', last, last, temb);
  transformer(out, 'mid_block.attentions.0', last, c.transformerLayersPerBlock[n - 1]!, c.crossAttentionDim[n - 1]!, c.useLinearProjection);
  resnet(out, 'mid_block.resnets.1', last, last, temb);
  const rev = [...ch].reverse();
  const revLayers = [...c.layersPerBlock].reverse();
  const revCross = [...c.crossAttentionDim].reverse();
  let prev = last;
  for (let i = 0; i < n; i++) {
    const cout = rev[i]!;
    // The skip input of the block's last resnet comes from the level below (diffusers: input_channel).
    const skipLast = rev[Math.min(i + 1, n - 1)]!;
    const layers = revLayers[i]! + 1;
    for (let j = 0; j < layers; j++) {
      const skip = j === layers - 1 ? skipLast : cout;
      resnet(out, `up_blocks.${i}.resnets.${j}`, (j === 0 ? prev : cout) + skip, cout, temb);
      if (c.upBlockTypes[i] === 'CrossAttnUpBlock2D') {
        transformer(out, `up_blocks.${i}.attentions.${j}`, cout, c.upTransformerLayersPerBlock[i]!, revCross[i]!, c.useLinearProjection);
      }
    }
    if (i < n - 1) conv(out, `up_blocks.${i}.upsamplers.0.conv`, cout, cout, 3);
    prev = cout;
  }
  norm(out, 'conv_norm_out', ch[0]!);
  conv(out, 'conv_out', c.outChannels, ch[0]!, c.convOutKernel);
  return out;
}

export function specNumel(spec: TensorSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

/** Total parameters (SDXL base: 2,567,463,684; SD-1.5: 859,520,964). */
export function countParams(specs: readonly TensorSpec[]): number {
  return specs.reduce((a, s) => a + specNumel(s), 0);
}

/**
 * Checks a file's tensor table against the expected specs (after any name mapping): every spec must be
 * present (`missing-tensor`) with its exact shape (`wrong-model`); a file with none of them is
 * `wrong-model` too. Extra tensors are not refused (checkpoints carry EMA copies, buffers and the like).
 */
export function checkAgainstSpecs(
  file: string,
  specs: readonly TensorSpec[],
  lookup: (name: string) => Pick<TensorInfo, 'shape'> | undefined,
): void {
  let missing = 0;
  let first: string | undefined;
  for (const s of specs) {
    const t = lookup(s.name);
    if (!t) {
      missing++;
      first ??= s.name;
      continue;
    }
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new ModelFileError('wrong-model', file, `shape is [${t.shape.join(', ')}], this model needs [${s.shape.join(', ')}]`, s.name);
    }
  }
  if (missing === specs.length && specs.length > 0) {
    throw new ModelFileError('wrong-model', file, `none of the ${specs.length} tensors this model needs is in the file`, first);
  }
  if (missing > 0) {
    throw new ModelFileError('missing-tensor', file, `${missing} of ${specs.length} needed tensors are missing, the first`, first);
  }
}
