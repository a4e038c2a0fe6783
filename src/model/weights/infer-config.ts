/**
 * The diffusers/transformers configs of a single-file checkpoint, read off its tensor shapes (a single
 * file carries no config.json). diffusers' from_single_file takes them from the original yaml, which
 * names only SDXL base and SD-1.5 sizes; here every size comes from a shape, so any checkpoint with the
 * SGM/LDM layout gets its own configs (the tiny test model as well as SDXL base):
 *   UNet            infer-unet-config.ts
 *   VAE             first_stage_model.encoder.conv_in [C0, in, 3, 3], encoder.down.{i}.block.{j}.conv2 [Ci, …]
 *                   (levels, resnets per level), post_quant_conv [latent, latent, 1, 1], decoder.conv_out
 *   CLIP-L          token_embedding [vocab, width], position_embedding [positions, width], encoder.layers.N,
 *                   mlp.fc1 [inner, width]; quick_gelu (OpenAI CLIP)
 *   OpenCLIP-bigG   token_embedding, positional_embedding, transformer.resblocks.N, mlp.c_fc, and
 *                   text_projection [width, projection] (open_clip computes x @ P); exact GELU
 *   scheduler       the yaml's DDPM betas (linear_start 0.00085, linear_end 0.012, 1000 steps, scaled
 *                   linear), identical for SD-1.5 and SDXL base: stabilityai's scheduler_config.json.
 *                   A `v_pred` marker tensor (diffusers single_file_utils) selects v-prediction.
 * Fields no shape carries (heads, GroupNorm groups, VAE scaling) follow the reference configs unless
 * the file's metadata hints otherwise (config-hints.ts).
 */
import type { SchedulerConfig } from '../../diffusion/schedulers';
import { SD15_VAE_CONFIG, SDXL_VAE_CONFIG } from '../config';
import { ModelFileError } from '../errors';
import type { SafetensorsFile } from '../safetensors/reader';
import type { UNetConfigJson } from '../unet/arch';
import { CLIP_L_PREFIXES, OPENCLIP_G_PREFIX } from './clip-sgm';
import { readConfigHints, type ConfigHints } from './config-hints';
import { inferUNetConfig, type ShapeOf } from './infer-unet-config';
import { detectSingleFileKind, type SingleFileKind } from './single-file-kind';
import { LDM_VAE_PREFIX } from './vae-ldm';

type Json = Record<string, unknown>;

export interface SingleFileConfigs {
  readonly kind: SingleFileKind;
  readonly unet: UNetConfigJson;
  /** Absent when the file holds no VAE (first_stage_model.*). */
  readonly vae?: Json;
  readonly textEncoder?: Json;
  readonly textEncoder2?: Json;
  readonly scheduler: SchedulerConfig;
}

/** stabilityai/stable-diffusion-xl-base-1.0 scheduler/scheduler_config.json (the yaml's DDPM schedule). */
export const SINGLE_FILE_SCHEDULER: SchedulerConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  steps_offset: 1,
  timestep_spacing: 'leading',
  prediction_type: 'epsilon',
  set_alpha_to_one: false,
  use_karras_sigmas: false,
};

function failer(file: string, what: string) {
  return (why: string, tensor?: string): never => {
    throw new ModelFileError('wrong-model', file, `cannot read the ${what}'s architecture off its tensors: ${why}`, tensor);
  };
}

function countIndices(names: readonly string[], prefix: string): number {
  const seen = new Set<string>();
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const m = /^(\d+)\./.exec(n.slice(prefix.length));
    if (m) seen.add(m[1]!);
  }
  return seen.size;
}

function headsFor(width: number, hint: number | undefined, fail: (why: string) => never, key: string): number {
  if (hint !== undefined) return hint;
  // OpenAI CLIP ViT-L/14 (768 wide, 12 heads) and open_clip ViT-bigG/14 (1280, 20): 64-wide heads
  if (width % 64 !== 0) fail(`a ${width}-wide encoder does not split into 64-wide heads; the file needs a \`${key}.num_attention_heads\` config hint`);
  return width / 64;
}

export function inferVaeConfig(file: string, names: readonly string[], shape: ShapeOf, kind: SingleFileKind, hints: ConfigHints['vae']): Json {
  const fail = failer(file, 'VAE');
  const p = LDM_VAE_PREFIX;
  const need = (name: string): readonly number[] => shape(p + name) ?? fail('the tensor is missing', p + name);
  const levels = countIndices(names, `${p}encoder.down.`);
  const perLevel = countIndices(names, `${p}encoder.down.0.block.`);
  if (levels === 0 || perLevel === 0) fail('no encoder.down.{i}.block.{j} tensors');
  const channels = Array.from({ length: levels }, (_, i) => need(`encoder.down.${i}.block.0.conv2.weight`)[0]!);
  const base = kind === 'sdxl' ? SDXL_VAE_CONFIG : SD15_VAE_CONFIG;
  return {
    _class_name: 'AutoencoderKL',
    in_channels: need('encoder.conv_in.weight')[1]!,
    out_channels: need('decoder.conv_out.weight')[0]!,
    latent_channels: need('post_quant_conv.weight')[0]!,
    block_out_channels: channels,
    layers_per_block: perLevel,
    // ldm/modules/diffusionmodules/model.py Normalize(): GroupNorm(num_groups=32)
    norm_num_groups: hints?.norm_num_groups ?? 32,
    scaling_factor: hints?.scaling_factor ?? base.scalingFactor,
    force_upcast: hints?.force_upcast ?? base.forceUpcast,
  };
}

export function inferClipLConfig(file: string, names: readonly string[], shape: ShapeOf, hints: ConfigHints['text_encoder']): Json | undefined {
  const prefix = CLIP_L_PREFIXES.find((p) => names.some((n) => n.startsWith(p)));
  if (!prefix) return undefined;
  const fail = failer(file, 'CLIP-L text encoder');
  // very old files lack transformers' `text_model.` level
  const tm = names.some((n) => n.startsWith(`${prefix}text_model.`)) ? `${prefix}text_model.` : prefix;
  const need = (name: string): readonly number[] => shape(tm + name) ?? fail('the tensor is missing', tm + name);
  const [vocab, width] = need('embeddings.token_embedding.weight');
  return {
    architectures: ['CLIPTextModel'],
    model_type: 'clip_text_model',
    hidden_act: 'quick_gelu',
    hidden_size: width,
    intermediate_size: need('encoder.layers.0.mlp.fc1.weight')[0],
    num_hidden_layers: countIndices(names, `${tm}encoder.layers.`),
    num_attention_heads: headsFor(width!, hints?.num_attention_heads, fail, 'text_encoder'),
    max_position_embeddings: need('embeddings.position_embedding.weight')[0],
    vocab_size: vocab,
    layer_norm_eps: 1e-5,
    projection_dim: width,
  };
}

export function inferOpenClipGConfig(file: string, names: readonly string[], shape: ShapeOf, hints: ConfigHints['text_encoder_2']): Json | undefined {
  const p = OPENCLIP_G_PREFIX;
  if (!names.some((n) => n.startsWith(p))) return undefined;
  const fail = failer(file, 'OpenCLIP-bigG text encoder');
  const need = (name: string): readonly number[] => shape(p + name) ?? fail('the tensor is missing', p + name);
  const [vocab, width] = need('token_embedding.weight');
  const projection = need('text_projection');
  if (projection[0] !== width) fail(`text_projection is [${projection.join(', ')}], expected [${width}, …]`, `${p}text_projection`);
  return {
    architectures: ['CLIPTextModelWithProjection'],
    model_type: 'clip_text_model',
    hidden_act: 'gelu',
    hidden_size: width,
    intermediate_size: need('transformer.resblocks.0.mlp.c_fc.weight')[0],
    num_hidden_layers: countIndices(names, `${p}transformer.resblocks.`),
    num_attention_heads: headsFor(width!, hints?.num_attention_heads, fail, 'text_encoder_2'),
    max_position_embeddings: need('positional_embedding')[0],
    vocab_size: vocab,
    layer_norm_eps: 1e-5,
    projection_dim: projection[1],
  };
}

/** Every config of the checkpoint (see the file comment); an unreadable layout is a named error. */
export function inferSingleFileConfigs(file: SafetensorsFile): SingleFileConfigs {
  const kind = detectSingleFileKind(file);
  const names = file.names();
  const shape: ShapeOf = (n) => file.get(n)?.shape;
  const hints = readConfigHints(file.metadata, file.name);
  const textEncoder = inferClipLConfig(file.name, names, shape, hints.text_encoder);
  const textEncoder2 = kind === 'sdxl' ? inferOpenClipGConfig(file.name, names, shape, hints.text_encoder_2) : undefined;
  const unet = inferUNetConfig({ file: file.name, kind, names, shape, pooledDim: textEncoder2?.projection_dim as number | undefined, hints: hints.unet });
  const vae = names.some((n) => n.startsWith(LDM_VAE_PREFIX)) ? inferVaeConfig(file.name, names, shape, kind, hints.vae) : undefined;
  const scheduler = file.has('v_pred') ? { ...SINGLE_FILE_SCHEDULER, prediction_type: 'v_prediction' } : SINGLE_FILE_SCHEDULER;
  return { kind, unet, scheduler, ...(vae ? { vae } : {}), ...(textEncoder ? { textEncoder } : {}), ...(textEncoder2 ? { textEncoder2 } : {}) };
}
