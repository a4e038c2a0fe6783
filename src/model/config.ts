/**
 * UNet configuration: the fields of a diffusers UNet2DConditionModel config.json that decide the
 * architecture, normalised to per-block lists, plus the real SDXL base 1.0 and SD-1.5 configs as
 * data. Normalisation follows diffusers' UNet2DConditionModel.__init__ (unet_2d_condition.py):
 *   - `num_attention_heads = num_attention_heads or attention_head_dim`: configs (SD-1.5, SDXL) call the
 *     number of heads `attention_head_dim`, a historic misnaming diffusers keeps for compatibility;
 *     the head size is then channels / heads.
 *   - an int for heads / transformer depth / layers_per_block / cross_attention_dim applies to every block;
 *   - up blocks use the reversed lists (or reverse_transformer_layers_per_block); the mid block the last entry.
 * Anything outside the SD-1.5/SDXL family is refused with a `bad-config` error naming the field.
 */
import { ModelFileError } from './errors';

export type DownBlockType = 'DownBlock2D' | 'CrossAttnDownBlock2D';
export type UpBlockType = 'UpBlock2D' | 'CrossAttnUpBlock2D';

export interface UNetConfig {
  sampleSize: number;
  inChannels: number;
  outChannels: number;
  centerInputSample: boolean;
  flipSinToCos: boolean;
  freqShift: number;
  downBlockTypes: DownBlockType[];
  upBlockTypes: UpBlockType[];
  midBlockType: 'UNetMidBlock2DCrossAttn';
  blockOutChannels: number[];
  /** Resnets per down block (up blocks have one more), per block. */
  layersPerBlock: number[];
  downsamplePadding: number;
  midBlockScaleFactor: number;
  actFn: 'silu';
  normNumGroups: number;
  normEps: number;
  /** Width of encoder_hidden_states, per down block (768 for SD-1.5, 2048 for SDXL). */
  crossAttentionDim: number[];
  /** Transformer depth per down block; the mid block uses the last entry. */
  transformerLayersPerBlock: number[];
  /** Transformer depth per up block (already in up-block order). */
  upTransformerLayersPerBlock: number[];
  /** Attention heads per down block (the resolved `num_attention_heads or attention_head_dim`). */
  numAttentionHeads: number[];
  useLinearProjection: boolean;
  upcastAttention: boolean;
  onlyCrossAttention: boolean;
  /** 'text_time' for SDXL (pooled text embeds + micro-conditioning ids), null for SD-1.5. */
  additionEmbedType: 'text_time' | null;
  additionTimeEmbedDim: number | null;
  projectionClassEmbeddingsInputDim: number | null;
  /** time_embedding_dim or 4 × block_out_channels[0]. */
  timeEmbedDim: number;
  convInKernel: number;
  convOutKernel: number;
}

type Json = Record<string, unknown>;

class Fields {
  constructor(
    private readonly j: Json,
    private readonly file: string,
  ) {}
  fail(field: string, why: string): never {
    throw new ModelFileError('bad-config', this.file, why, field);
  }
  has(k: string): boolean {
    return this.j[k] !== undefined && this.j[k] !== null;
  }
  int(k: string, dflt?: number, min = 0): number {
    const v = this.has(k) ? this.j[k] : dflt;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(k, `expected an integer ≥ ${min}, found ${JSON.stringify(v)}`);
    return v;
  }
  num(k: string, dflt: number): number {
    const v = this.has(k) ? this.j[k] : dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(k, `expected a number, found ${JSON.stringify(v)}`);
    return v;
  }
  bool(k: string, dflt: boolean): boolean {
    const v = this.has(k) ? this.j[k] : dflt;
    if (typeof v !== 'boolean') this.fail(k, `expected true or false, found ${JSON.stringify(v)}`);
    return v;
  }
  intList(k: string): number[] {
    const v = this.j[k];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isSafeInteger(x) && x >= 1)) {
      this.fail(k, `expected a non-empty list of positive integers, found ${JSON.stringify(v)}`);
    }
    return v as number[];
  }
  /** An int (repeated n times) or a list of n ints. */
  perBlock(k: string, n: number, dflt?: number): number[] {
    const v = this.has(k) ? this.j[k] : dflt;
    if (typeof v === 'number') return new Array<number>(n).fill(this.int(k, dflt, 1));
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isSafeInteger(x) && x >= 1)) {
      this.fail(k, `expected a positive integer or a list of ${n}, found ${JSON.stringify(v)}`);
    }
    return v as number[];
  }
  strings<T extends string>(k: string, allowed: readonly T[], dflt?: readonly T[]): T[] {
    const v = this.has(k) ? this.j[k] : dflt;
    if (!Array.isArray(v) || v.length === 0) this.fail(k, `expected a non-empty list, found ${JSON.stringify(v)}`);
    for (const s of v) if (!allowed.includes(s as T)) this.fail(k, `block type ${JSON.stringify(s)} is not supported (only ${allowed.join(', ')})`);
    return v as T[];
  }
  /** A field that must be absent/null or equal one of `ok` (unsupported variants of the architecture). */
  only(k: string, ok: readonly unknown[]): void {
    if (this.has(k) && !ok.includes(this.j[k])) this.fail(k, `${JSON.stringify(this.j[k])} is not supported here`);
  }
}

/** Parses a diffusers UNet config.json (already JSON-parsed). `file` names it in errors. */
export function parseUNetConfig(json: unknown, file = 'unet/config.json'): UNetConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelFileError('bad-config', file, 'the config is not a JSON object');
  }
  const f = new Fields(json as Json, file);
  const cls = (json as Json)._class_name;
  if (cls !== undefined && cls !== 'UNet2DConditionModel') f.fail('_class_name', `${JSON.stringify(cls)} is not a UNet2DConditionModel`);
  f.only('mid_block_type', ['UNetMidBlock2DCrossAttn']);
  f.only('act_fn', ['silu']);
  f.only('class_embed_type', []);
  f.only('num_class_embeds', []);
  f.only('encoder_hid_dim_type', []);
  f.only('time_cond_proj_dim', []);
  f.only('time_embedding_act_fn', []);
  f.only('timestep_post_act', []);
  f.only('addition_embed_type', ['text_time']);
  f.only('time_embedding_type', ['positional']);
  f.only('resnet_time_scale_shift', ['default']);
  f.only('attention_type', ['default']);
  f.only('dual_cross_attention', [false]);
  f.only('class_embeddings_concat', [false]);
  f.only('resnet_skip_time_act', [false]);
  f.only('resnet_out_scale_factor', [1]);
  f.only('cross_attention_norm', []);
  f.only('mid_block_only_cross_attention', [false]);
  f.only('only_cross_attention', [false]);

  if ('mid_block_type' in (json as Json) && (json as Json).mid_block_type === null) f.fail('mid_block_type', 'a UNet without a mid block is not supported');
  const blockOutChannels = f.intList('block_out_channels');
  const n = blockOutChannels.length;
  const downBlockTypes = f.strings<DownBlockType>('down_block_types', ['DownBlock2D', 'CrossAttnDownBlock2D']);
  const upBlockTypes = f.strings<UpBlockType>('up_block_types', ['UpBlock2D', 'CrossAttnUpBlock2D']);
  if (downBlockTypes.length !== n) f.fail('down_block_types', `has ${downBlockTypes.length} entries, block_out_channels ${n}`);
  if (upBlockTypes.length !== n) f.fail('up_block_types', `has ${upBlockTypes.length} entries, block_out_channels ${n}`);

  // diffusers: num_attention_heads = num_attention_heads or attention_head_dim (see the file comment).
  const headsKey = f.has('num_attention_heads') ? 'num_attention_heads' : 'attention_head_dim';
  const numAttentionHeads = f.perBlock(headsKey, n, 8);
  blockOutChannels.forEach((c, i) => {
    if (c % numAttentionHeads[i]! !== 0) f.fail(headsKey, `block ${i}: ${c} channels do not split into ${numAttentionHeads[i]} heads`);
  });
  const normNumGroups = f.int('norm_num_groups', 32, 1);
  blockOutChannels.forEach((c) => {
    if (c % normNumGroups !== 0) f.fail('norm_num_groups', `${c} channels do not split into ${normNumGroups} groups`);
  });
  const transformerLayersPerBlock = f.perBlock('transformer_layers_per_block', n, 1);
  const upTransformerLayersPerBlock = f.has('reverse_transformer_layers_per_block')
    ? f.perBlock('reverse_transformer_layers_per_block', n)
    : [...transformerLayersPerBlock].reverse();
  const additionEmbedType = f.has('addition_embed_type') ? 'text_time' : null;
  const timeEmbedDim = f.has('time_embedding_dim') ? f.int('time_embedding_dim', undefined, 1) : 4 * blockOutChannels[0]!;
  return {
    sampleSize: f.int('sample_size', 64, 1),
    inChannels: f.int('in_channels', 4, 1),
    outChannels: f.int('out_channels', 4, 1),
    centerInputSample: f.bool('center_input_sample', false),
    flipSinToCos: f.bool('flip_sin_to_cos', true),
    freqShift: f.num('freq_shift', 0),
    downBlockTypes,
    upBlockTypes,
    midBlockType: 'UNetMidBlock2DCrossAttn',
    blockOutChannels,
    layersPerBlock: f.perBlock('layers_per_block', n, 2),
    downsamplePadding: f.int('downsample_padding', 1),
    midBlockScaleFactor: f.num('mid_block_scale_factor', 1),
    actFn: 'silu',
    normNumGroups,
    normEps: f.num('norm_eps', 1e-5),
    crossAttentionDim: f.perBlock('cross_attention_dim', n, 1280),
    transformerLayersPerBlock,
    upTransformerLayersPerBlock,
    numAttentionHeads,
    useLinearProjection: f.bool('use_linear_projection', false),
    upcastAttention: f.bool('upcast_attention', false),
    onlyCrossAttention: false,
    additionEmbedType,
    additionTimeEmbedDim: additionEmbedType ? f.int('addition_time_embed_dim', undefined, 1) : null,
    projectionClassEmbeddingsInputDim: additionEmbedType ? f.int('projection_class_embeddings_input_dim', undefined, 1) : null,
    timeEmbedDim,
    convInKernel: f.int('conv_in_kernel', 3, 1),
    convOutKernel: f.int('conv_out_kernel', 3, 1),
  };
}

/** Head size of block `i` (64 for every SDXL block; 40/80/160/160 for SD-1.5). */
export function headDim(c: UNetConfig, block: number): number {
  return c.blockOutChannels[block]! / c.numAttentionHeads[block]!;
}

/** stabilityai/stable-diffusion-xl-base-1.0 unet/config.json (architecture fields). */
export const SDXL_BASE_UNET_CONFIG_JSON = {
  _class_name: 'UNet2DConditionModel',
  act_fn: 'silu',
  addition_embed_type: 'text_time',
  addition_embed_type_num_heads: 64,
  addition_time_embed_dim: 256,
  attention_head_dim: [5, 10, 20],
  block_out_channels: [320, 640, 1280],
  center_input_sample: false,
  class_embed_type: null,
  conv_in_kernel: 3,
  conv_out_kernel: 3,
  cross_attention_dim: 2048,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
  downsample_padding: 1,
  dual_cross_attention: false,
  flip_sin_to_cos: true,
  freq_shift: 0,
  in_channels: 4,
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  mid_block_type: 'UNetMidBlock2DCrossAttn',
  norm_eps: 1e-5,
  norm_num_groups: 32,
  num_attention_heads: null,
  only_cross_attention: false,
  out_channels: 4,
  projection_class_embeddings_input_dim: 2816,
  resnet_time_scale_shift: 'default',
  sample_size: 128,
  transformer_layers_per_block: [1, 2, 10],
  up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
  upcast_attention: false,
  use_linear_projection: true,
} as const;

/** runwayml/stable-diffusion-v1-5 unet/config.json (it predates most fields; the rest are defaults). */
export const SD15_UNET_CONFIG_JSON = {
  _class_name: 'UNet2DConditionModel',
  act_fn: 'silu',
  attention_head_dim: 8,
  block_out_channels: [320, 640, 1280, 1280],
  center_input_sample: false,
  cross_attention_dim: 768,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  downsample_padding: 1,
  flip_sin_to_cos: true,
  freq_shift: 0,
  in_channels: 4,
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  norm_eps: 1e-5,
  norm_num_groups: 32,
  out_channels: 4,
  sample_size: 64,
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
} as const;

export const SDXL_BASE_UNET_CONFIG: UNetConfig = parseUNetConfig(SDXL_BASE_UNET_CONFIG_JSON, 'SDXL base 1.0 unet config');
export const SD15_UNET_CONFIG: UNetConfig = parseUNetConfig(SD15_UNET_CONFIG_JSON, 'SD-1.5 unet config');

/** AutoencoderKL config (the fields that decide its tensors and its latent scaling). */
export interface VaeConfig {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  normNumGroups: number;
  scalingFactor: number;
  /** SDXL's VAE overflows in f16 (its config sets force_upcast): decode it in f32 unless patched. */
  forceUpcast: boolean;
}

export function parseVaeConfig(json: unknown, file = 'vae/config.json'): VaeConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelFileError('bad-config', file, 'the config is not a JSON object');
  }
  const f = new Fields(json as Json, file);
  const cls = (json as Json)._class_name;
  if (cls !== undefined && cls !== 'AutoencoderKL') f.fail('_class_name', `${JSON.stringify(cls)} is not an AutoencoderKL`);
  const blockOutChannels = f.intList('block_out_channels');
  f.strings('down_block_types', ['DownEncoderBlock2D'], blockOutChannels.map(() => 'DownEncoderBlock2D' as const));
  f.strings('up_block_types', ['UpDecoderBlock2D'], blockOutChannels.map(() => 'UpDecoderBlock2D' as const));
  f.only('act_fn', ['silu']);
  return {
    inChannels: f.int('in_channels', 3, 1),
    outChannels: f.int('out_channels', 3, 1),
    latentChannels: f.int('latent_channels', 4, 1),
    blockOutChannels,
    layersPerBlock: f.int('layers_per_block', 1, 1),
    normNumGroups: f.int('norm_num_groups', 32, 1),
    scalingFactor: f.num('scaling_factor', 0.18215),
    forceUpcast: f.bool('force_upcast', true),
  };
}

const VAE_BASE = { block_out_channels: [128, 256, 512, 512], layers_per_block: 2, latent_channels: 4, norm_num_groups: 32 };
/** stabilityai/stable-diffusion-xl-base-1.0 vae/config.json. */
export const SDXL_VAE_CONFIG: VaeConfig = parseVaeConfig({ ...VAE_BASE, scaling_factor: 0.13025, force_upcast: true }, 'SDXL vae config');
/** runwayml/stable-diffusion-v1-5 vae/config.json. */
export const SD15_VAE_CONFIG: VaeConfig = parseVaeConfig({ ...VAE_BASE, scaling_factor: 0.18215, force_upcast: false }, 'SD-1.5 vae config');
