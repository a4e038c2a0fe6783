/**
 * The UNet's structure, derived once from a diffusers `config.json` (UNet2DConditionModel): every
 * block with its weight-name prefix and channel counts. The UNet builder, the weight loader and the
 * memory plan all walk this one description, so they cannot disagree about the network.
 *
 * Follows diffusers 0.25 `UNet2DConditionModel.__init__` and `get_down_block`/`get_up_block`. Note the
 * diffusers misnomer: when `num_attention_heads` is null, `attention_head_dim` is the number of heads.
 */

export interface UNetConfigJson {
  in_channels: number;
  out_channels: number;
  block_out_channels: number[];
  down_block_types: string[];
  up_block_types: string[];
  layers_per_block: number;
  transformer_layers_per_block?: number | number[];
  attention_head_dim: number | number[];
  num_attention_heads?: number | number[] | null;
  cross_attention_dim: number;
  norm_num_groups: number;
  norm_eps: number;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  use_linear_projection?: boolean;
  addition_embed_type?: string | null;
  addition_time_embed_dim?: number | null;
  projection_class_embeddings_input_dim?: number | null;
  upcast_attention?: boolean;
  sample_size?: number;
  [key: string]: unknown;
}

export interface ResnetArch {
  prefix: string;
  cin: number;
  cout: number;
  /** 1×1 conv on the residual path when cin != cout. */
  shortcut: boolean;
}

export interface TransformerArch {
  prefix: string;
  channels: number;
  heads: number;
  headDim: number;
  depth: number;
  crossDim: number;
  linearProjection: boolean;
}

export interface DownBlockArch {
  prefix: string;
  resnets: ResnetArch[];
  /** One per resnet for cross-attention blocks, else empty. */
  attentions: TransformerArch[];
  downsample: { prefix: string; channels: number } | null;
}

export interface UpBlockArch {
  prefix: string;
  resnets: ResnetArch[];
  /** Channels of the skip tensor each resnet concatenates (popped from the down path). */
  skipChannels: number[];
  attentions: TransformerArch[];
  upsample: { prefix: string; channels: number } | null;
}

export interface UNetArch {
  inChannels: number;
  outChannels: number;
  /** Timestep sinusoid width (block_out_channels[0]) and embedding width (4×). */
  timeProjDim: number;
  timeEmbedDim: number;
  flipSinToCos: boolean;
  freqShift: number;
  /** SDXL's text_time addition embedding, or null (SD-1.5). */
  addition: { timeEmbedDim: number; projectionInputDim: number } | null;
  groups: number;
  eps: number;
  crossDim: number;
  convIn: { cin: number; cout: number };
  down: DownBlockArch[];
  mid: { resnets: [ResnetArch, ResnetArch]; attention: TransformerArch | null };
  up: UpBlockArch[];
  convOut: { cin: number; cout: number };
}

const perBlock = (v: number | number[] | null | undefined, n: number, fallback: number): number[] =>
  v === null || v === undefined ? Array(n).fill(fallback) : Array.isArray(v) ? v : Array(n).fill(v);

export function unetArch(cfg: UNetConfigJson): UNetArch {
  const ch = cfg.block_out_channels;
  const n = ch.length;
  const depth = perBlock(cfg.transformer_layers_per_block, n, 1);
  const heads = perBlock(cfg.num_attention_heads ?? cfg.attention_head_dim, n, 8);
  const linear = Boolean(cfg.use_linear_projection);
  const transformer = (prefix: string, channels: number, i: number): TransformerArch => ({
    prefix,
    channels,
    heads: heads[i]!,
    headDim: channels / heads[i]!,
    depth: depth[i]!,
    crossDim: cfg.cross_attention_dim,
    linearProjection: linear,
  });
  const resnet = (prefix: string, cin: number, cout: number): ResnetArch => ({ prefix, cin, cout, shortcut: cin !== cout });

  const down: DownBlockArch[] = [];
  let prev = ch[0]!;
  cfg.down_block_types.forEach((type, i) => {
    const out = ch[i]!;
    const prefix = `down_blocks.${i}`;
    const cross = type.startsWith('CrossAttn');
    const resnets = Array.from({ length: cfg.layers_per_block }, (_, j) => resnet(`${prefix}.resnets.${j}`, j === 0 ? prev : out, out));
    down.push({
      prefix,
      resnets,
      attentions: cross ? resnets.map((_, j) => transformer(`${prefix}.attentions.${j}`, out, i)) : [],
      downsample: i < n - 1 ? { prefix: `${prefix}.downsamplers.0.conv`, channels: out } : null,
    });
    prev = out;
  });

  const last = ch[n - 1]!;
  const midCross = true; // UNetMidBlock2DCrossAttn (SDXL and SD-1.5)
  const mid = {
    resnets: [resnet('mid_block.resnets.0', last, last), resnet('mid_block.resnets.1', last, last)] as [ResnetArch, ResnetArch],
    attention: midCross ? transformer('mid_block.attentions.0', last, n - 1) : null,
  };

  // Skip channels in the order the down path pushes them: conv_in, each resnet, each downsample.
  const skips: number[] = [ch[0]!];
  for (const b of down) {
    for (const r of b.resnets) skips.push(r.cout);
    if (b.downsample) skips.push(b.downsample.channels);
  }

  const up: UpBlockArch[] = [];
  const rch = [...ch].reverse();
  let prevOut = last;
  cfg.up_block_types.forEach((type, i) => {
    const out = rch[i]!;
    const blockIndexInDown = n - 1 - i;
    const prefix = `up_blocks.${i}`;
    const cross = type.startsWith('CrossAttn');
    const resnets: ResnetArch[] = [];
    const skipChannels: number[] = [];
    for (let j = 0; j < cfg.layers_per_block + 1; j++) {
      const skip = skips.pop()!;
      const rin = j === 0 ? prevOut : out;
      skipChannels.push(skip);
      resnets.push(resnet(`${prefix}.resnets.${j}`, rin + skip, out));
    }
    up.push({
      prefix,
      resnets,
      skipChannels,
      attentions: cross ? resnets.map((_, j) => transformer(`${prefix}.attentions.${j}`, out, blockIndexInDown)) : [],
      upsample: i < n - 1 ? { prefix: `${prefix}.upsamplers.0.conv`, channels: out } : null,
    });
    prevOut = out;
  });

  const textTime = cfg.addition_embed_type === 'text_time';
  return {
    inChannels: cfg.in_channels,
    outChannels: cfg.out_channels,
    timeProjDim: ch[0]!,
    timeEmbedDim: 4 * ch[0]!,
    flipSinToCos: cfg.flip_sin_to_cos,
    freqShift: cfg.freq_shift,
    addition: textTime
      ? { timeEmbedDim: cfg.addition_time_embed_dim!, projectionInputDim: cfg.projection_class_embeddings_input_dim! }
      : null,
    groups: cfg.norm_num_groups,
    eps: cfg.norm_eps,
    crossDim: cfg.cross_attention_dim,
    convIn: { cin: cfg.in_channels, cout: ch[0]! },
    down,
    mid,
    up,
    convOut: { cin: ch[0]!, cout: cfg.out_channels },
  };
}
