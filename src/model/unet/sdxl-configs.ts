/**
 * The real SDXL-base and SD-1.5 UNet configs (diffusers config.json of stabilityai/stable-diffusion-xl-
 * base-1.0 and runwayml/stable-diffusion-v1-5), as data, for dry runs that need no weights.
 */
import type { UNetConfigJson } from './arch';

export const SDXL_BASE_UNET: UNetConfigJson = {
  in_channels: 4,
  out_channels: 4,
  block_out_channels: [320, 640, 1280],
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
  layers_per_block: 2,
  transformer_layers_per_block: [1, 2, 10],
  attention_head_dim: [5, 10, 20],
  num_attention_heads: null,
  cross_attention_dim: 2048,
  norm_num_groups: 32,
  norm_eps: 1e-5,
  flip_sin_to_cos: true,
  freq_shift: 0,
  use_linear_projection: true,
  addition_embed_type: 'text_time',
  addition_time_embed_dim: 256,
  projection_class_embeddings_input_dim: 2816,
  upcast_attention: false,
  sample_size: 128,
};

export const SD15_UNET: UNetConfigJson = {
  in_channels: 4,
  out_channels: 4,
  block_out_channels: [320, 640, 1280, 1280],
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  layers_per_block: 2,
  transformer_layers_per_block: 1,
  attention_head_dim: 8,
  num_attention_heads: null,
  cross_attention_dim: 768,
  norm_num_groups: 32,
  norm_eps: 1e-5,
  flip_sin_to_cos: true,
  freq_shift: 0,
  use_linear_projection: false,
  addition_embed_type: null,
  sample_size: 64,
};
