/**
 * Test fixture (Node only; GPU and e2e tests): a tiny SD-1.5-family model made at test time, in a temp
 * folder, never committed. Its configs derive from golden/models' tiny SDXL parts, changed the way
 * SD-1.5 differs from SDXL (runwayml/stable-diffusion-v1-5's config files):
 *  - UNet: no addition embedding (addition_embed_type, its time-embed and projection dims removed),
 *    cross_attention_dim = the one text encoder's hidden size, 1×1-conv projections
 *    (use_linear_projection false), one transformer layer per block; the tiny SDXL's block types (no
 *    attention at the full latent resolution, so e2e scenes stay quick on SwiftShader; SD-1.5's own
 *    CrossAttn-first order runs the same blocks); random weights (seeded, torch's default bounds
 *    ±1/√fan_in; norms near 1).
 *  - text encoder, tokenizer: golden/models' CLIP-L-shaped text_encoder and tokenizer as they are.
 *  - VAE: golden/models' weights, scaling_factor 0.18215 (SD-1.5's), force_upcast false.
 *  - scheduler: SD-1.5's PNDMScheduler config (skip_prk_steps, set_alpha_to_one false, steps_offset 1).
 *  - model_index.json: StableDiffusionPipeline, one text encoder, no force_zeros_for_empty_prompt.
 * The same weights can also be written as one LDM single file (model.diffusion_model.*,
 * first_stage_model.*, cond_stage_model.transformer.*) with the tokenizer folder beside it, as SD-1.5
 * checkpoints are shared; the config hints carry what no shape tells (heads, groups).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUNetConfig } from '../config';
import { encodeSafetensors, type TensorToWrite } from '../safetensors/writer';
import { CONFIG_HINTS_KEY, type ConfigHints } from './config-hints';
import { loadF32Safetensors, TINY_FOLDER, vaeToLdm } from './tiny-single-file.fixture';
import { unetTensorSpecs } from './unet-diffusers';
import { rng } from '../../../tests/numeric';
import { diffusersToSgmUNetName } from './unet-sgm';

type Json = Record<string, unknown>;
type Tensors = Map<string, { shape: number[]; data: Float32Array }>;

const json = (path: string) => JSON.parse(readFileSync(join(TINY_FOLDER, path), 'utf8')) as Json;

/** The SD-1.5 family's VAE scale (runwayml/stable-diffusion-v1-5 vae/config.json). */
export const SD15_VAE_SCALE = 0.18215;

/** runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json (the fields the studio reads). */
export const SD15_SCHEDULER_CONFIG: Json = {
  _class_name: 'PNDMScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

export function tinySd15Configs(): { unet: Json; vae: Json; textEncoder: Json; modelIndex: Json } {
  const textEncoder = json('text_encoder/config.json');
  const unet: Json = { ...json('unet/config.json') };
  for (const k of ['addition_embed_type', 'addition_embed_type_num_heads', 'addition_time_embed_dim', 'projection_class_embeddings_input_dim']) delete unet[k];
  Object.assign(unet, {
    cross_attention_dim: textEncoder.hidden_size,
    use_linear_projection: false,
    transformer_layers_per_block: 1,
  });
  const vae = { ...json('vae/config.json'), scaling_factor: SD15_VAE_SCALE, force_upcast: false };
  const modelIndex: Json = {
    _class_name: 'StableDiffusionPipeline',
    _diffusers_version: '0.25.1',
    feature_extractor: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', 'PNDMScheduler'],
    text_encoder: ['transformers', 'CLIPTextModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  };
  return { unet, vae, textEncoder, modelIndex };
}

/** Random UNet weights for the config: every tensor its diffusers layout implies (unet-diffusers.ts). */
export function tinySd15UNetWeights(unetJson: Json, seed = 15): Tensors {
  const u = rng(seed);
  const out: Tensors = new Map();
  for (const { name, shape } of unetTensorSpecs(parseUNetConfig(unetJson))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = /norm[^.]*\.weight$/.test(name);
    // torch's default init bound 1/√fan_in (fan_in: every dim but the first); biases and norms small around 0 / 1
    const fanIn = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : shape[0]!;
    const bound = isNorm ? 0.1 : name.endsWith('.bias') ? 0.05 : 1 / Math.sqrt(fanIn);
    for (let i = 0; i < n; i++) data[i] = (isNorm ? 1 : 0) + bound * (2 * u() - 1);
    out.set(name, { shape: [...shape], data });
  }
  return out;
}

function toWrite(t: Tensors, rename = (k: string) => k): TensorToWrite[] {
  return [...t].map(([k, v]) => ({ name: rename(k), dtype: 'F32' as const, shape: v.shape, data: v.data }));
}

function copyTokenizer(dir: string, withConfig: boolean): void {
  mkdirSync(join(dir, 'tokenizer'), { recursive: true });
  const files = ['vocab.json', 'merges.txt', ...(withConfig ? ['tokenizer_config.json', 'special_tokens_map.json'] : [])];
  for (const f of files) copyFileSync(join(TINY_FOLDER, 'tokenizer', f), join(dir, 'tokenizer', f));
}

/** Writes the tiny SD-1.5 model as a diffusers folder (into `dir`, default a new temp folder); returns the folder. */
export function writeTinySd15Folder(dir = mkdtempSync(join(tmpdir(), 'cidm-tiny-sd15-'))): string {
  const c = tinySd15Configs();
  const put = (path: string, content: string | Uint8Array) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  put('model_index.json', JSON.stringify(c.modelIndex, null, 2));
  put('scheduler/scheduler_config.json', JSON.stringify(SD15_SCHEDULER_CONFIG, null, 2));
  put('unet/config.json', JSON.stringify(c.unet, null, 2));
  put('unet/diffusion_pytorch_model.safetensors', encodeSafetensors(toWrite(tinySd15UNetWeights(c.unet)), { format: 'pt' }));
  put('vae/config.json', JSON.stringify(c.vae, null, 2));
  copyFileSync(join(TINY_FOLDER, 'vae/diffusion_pytorch_model.safetensors'), join(dir, 'vae/diffusion_pytorch_model.safetensors'));
  put('text_encoder/config.json', JSON.stringify(c.textEncoder, null, 2));
  copyFileSync(join(TINY_FOLDER, 'text_encoder/model.safetensors'), join(dir, 'text_encoder/model.safetensors'));
  copyTokenizer(dir, true);
  return dir;
}

/** What no tensor shape tells about the tiny model (config-hints.ts). */
function tinySd15Hints(): ConfigHints {
  const c = tinySd15Configs();
  return {
    unet: { attention_head_dim: parseUNetConfig(c.unet).numAttentionHeads, norm_num_groups: c.unet.norm_num_groups as number, sample_size: c.unet.sample_size as number },
    vae: { norm_num_groups: c.vae.norm_num_groups as number, scaling_factor: SD15_VAE_SCALE, force_upcast: false },
    text_encoder: { num_attention_heads: c.textEncoder.num_attention_heads as number },
  };
}

/**
 * The same weights as one LDM single file (SD-1.5's layout, all F32) with tokenizer/ (vocab and merges,
 * as a person supplies them) beside it; returns the folder and the file's path.
 */
export function writeTinySd15SingleFile(dir = mkdtempSync(join(tmpdir(), 'cidm-tiny-sd15-ldm-')), name = 'tiny_sd15.safetensors'): { dir: string; file: string } {
  const c = tinySd15Configs();
  const unetConfig = parseUNetConfig(c.unet);
  const levels = (c.vae.block_out_channels as number[]).length;
  const out: TensorToWrite[] = toWrite(tinySd15UNetWeights(c.unet), (k) => `model.diffusion_model.${diffusersToSgmUNetName(k, unetConfig)}`);
  for (const [k, t] of loadF32Safetensors(join(TINY_FOLDER, 'vae/diffusion_pytorch_model.safetensors'))) {
    const [ldm, shape] = vaeToLdm(k, t.shape, levels);
    out.push({ name: `first_stage_model.${ldm}`, dtype: 'F32', shape, data: t.data });
  }
  for (const [k, t] of loadF32Safetensors(join(TINY_FOLDER, 'text_encoder/model.safetensors'))) {
    // the LDM layout's CLIP-L is transformers' CLIPTextModel under cond_stage_model.transformer.
    out.push({ name: `cond_stage_model.transformer.${k}`, dtype: 'F32', shape: t.shape, data: t.data });
  }
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, encodeSafetensors(out, { format: 'pt', [CONFIG_HINTS_KEY]: JSON.stringify(tinySd15Hints()) }));
  copyTokenizer(dir, false);
  return { dir, file };
}
