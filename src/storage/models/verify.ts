/**
 * Verification before a model is marked usable. Two levels:
 *  - verifyFile: one file on its own (JSON parses; a .safetensors header parses and its data section is
 *    exactly the file's size, header.ts; merges.txt has merge lines). Run on each `.partial` file before
 *    it gets its final name.
 *  - verifyDiffusers / verifySingleFile: the files together describe an SDXL (or SD-1.5) model: the
 *    pipeline class, the UNet/VAE configs (config.ts) and their tensors (unet-diffusers.ts,
 *    single-file.ts), and the text encoders' widths against what the UNet consumes (SDXL's
 *    cross-attention width is CLIP-L + OpenCLIP-bigG hidden sizes, 768 + 1280 = 2048; its pooled
 *    embedding is bigG's projection, 1280 + 6 × 256 time ids = 2816 add-embedding inputs).
 * Every refusal is a ModelFileError naming the file (and tensor or field).
 */
import { pipelineFamilyOf } from '../../diffusion/pipeline-family';
import type { SchedulerConfig } from '../../diffusion/schedulers';
import { betas } from '../../diffusion/schedulers/common';
import { predictionTypeOf } from '../../diffusion/schedulers/prediction';
import { parseUNetConfig, parseVaeConfig, type UNetConfig } from '../../model/config';
import { ModelFileError } from '../../model/errors';
import { SafetensorsFile } from '../../model/safetensors/reader';
import { BlobSource } from '../../model/safetensors/source';
import type { Component } from '../../model/weights/mapping';
import { planSingleFile } from '../../model/weights/single-file';
import { checkAgainstSpecs, unetTensorSpecs } from '../../model/weights/unet-diffusers';
import { legacyVaeName, vaeTensorSpecs } from '../../model/weights/vae-ldm';
import { SINGLE_FILE_TOKENIZER_FILES } from './plan';
import type { ModelKind, ModelNeed } from './types';

/** Opens a model file by its path in the model folder. */
export type OpenFile = (path: string) => Promise<Blob>;

export interface Verified {
  readonly kind: ModelKind;
  readonly components: readonly string[];
  readonly needs: readonly ModelNeed[];
}

type Json = Record<string, unknown>;

async function readJson(open: OpenFile, path: string): Promise<Json> {
  const text = await (await open(path)).text();
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError('bad-config', path, `the file is not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ModelFileError('bad-config', path, 'the file is not a JSON object');
  return v as Json;
}

async function openSafetensors(open: OpenFile, path: string, label = path): Promise<SafetensorsFile> {
  return SafetensorsFile.open(new BlobSource(await open(path), label));
}

/** Checks one file by its kind (see the file comment). */
export async function verifyFile(path: string, blob: Blob, label = path): Promise<void> {
  const open: OpenFile = async () => blob;
  if (path.endsWith('.json')) await readJson(open, label);
  else if (path.endsWith('.safetensors')) await openSafetensors(open, path, label);
  else if (path.endsWith('merges.txt')) {
    // CLIP's merges.txt: an optional "#version" line, then "a b" pairs.
    const head = await blob.slice(0, 4096).text();
    const first = head.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#'));
    if (!first || first.trim().split(' ').length !== 2) throw new ModelFileError('bad-config', label, 'the file does not hold BPE merge pairs');
  }
}

/** Pipelines the studio runs; the refiner and img2img-only repos are SDXL-like but lack text_encoder. */
const PIPELINES: Record<string, ModelKind> = { StableDiffusionXLPipeline: 'sdxl', StableDiffusionPipeline: 'sd15' };

function kindOf(unet: UNetConfig): ModelKind {
  return unet.additionEmbedType === 'text_time' ? 'sdxl' : 'sd15';
}

interface TextEncoderInfo {
  hidden: number;
  projection: number | null;
}

async function checkTextEncoder(open: OpenFile, dir: string, weights: string, withProjection: boolean): Promise<TextEncoderInfo> {
  const cfgPath = `${dir}/config.json`;
  const cfg = await readJson(open, cfgPath);
  const archs = Array.isArray(cfg.architectures) ? cfg.architectures : [];
  const want = withProjection ? 'CLIPTextModelWithProjection' : 'CLIPTextModel';
  if (cfg.model_type !== 'clip_text_model' && !archs.includes(want)) {
    throw new ModelFileError('wrong-model', cfgPath, `model_type ${JSON.stringify(cfg.model_type)} is not a CLIP text model`, 'model_type');
  }
  const int = (k: string) => {
    const v = cfg[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ModelFileError('bad-config', cfgPath, `expected a positive integer, found ${JSON.stringify(v)}`, k);
    return v;
  };
  const hidden = int('hidden_size');
  const vocab = int('vocab_size');
  const file = await openSafetensors(open, weights);
  file.expectShape('text_model.embeddings.token_embedding.weight', [vocab, hidden]);
  let projection: number | null = null;
  if (withProjection) {
    projection = cfg.projection_dim === undefined ? hidden : int('projection_dim');
    file.expectShape('text_projection.weight', [projection, hidden]);
  }
  return { hidden, projection };
}

/** Checks a diffusers folder whose files are `paths` (as stored: the .fp16 names included). */
export async function verifyDiffusers(open: OpenFile, paths: readonly string[]): Promise<Verified> {
  const has = new Set(paths);
  const weightsOf = (stem: string) => {
    const p = [`${stem}.fp16.safetensors`, `${stem}.safetensors`].find((x) => has.has(x));
    if (!p) throw new ModelFileError('missing-file', `${stem}.safetensors`, 'the weights file is missing');
    return p;
  };
  const index = await readJson(open, 'model_index.json');
  const cls = String(index._class_name);
  const pipelineKind = PIPELINES[cls];
  if (!pipelineKind) {
    throw new ModelFileError('wrong-model', 'model_index.json', `the pipeline is a ${cls}, not a Stable Diffusion XL (or 1.5) text-to-image pipeline`, '_class_name');
  }

  const unet = parseUNetConfig(await readJson(open, 'unet/config.json'), 'unet/config.json');
  const kind = kindOf(unet);
  if (kind !== pipelineKind) {
    throw new ModelFileError('wrong-model', 'unet/config.json', `the UNet is ${kind === 'sdxl' ? 'an SDXL' : 'an SD-1.5-style'} UNet but model_index.json names a ${cls}`, 'addition_embed_type');
  }
  const vae = parseVaeConfig(await readJson(open, 'vae/config.json'), 'vae/config.json');
  // what the configs describe must be runnable before any weight is read against them
  checkRunnable(unet, vae);
  const unetPath = weightsOf('unet/diffusion_pytorch_model');
  const unetFile = await openSafetensors(open, unetPath);
  checkAgainstSpecs(unetPath, unetTensorSpecs(unet), (n) => unetFile.get(n));

  const vaePath = weightsOf('vae/diffusion_pytorch_model');
  const vaeFile = await openSafetensors(open, vaePath);
  const vaeByName = new Map(vaeFile.tensors.map((t) => [legacyVaeName(t.name), t]));
  checkAgainstSpecs(vaePath, vaeTensorSpecs(vae), (n) => vaeByName.get(n));

  const te1 = await checkTextEncoder(open, 'text_encoder', weightsOf('text_encoder/model'), false);
  const components = ['unet', 'vae', 'text_encoder', 'tokenizer', 'scheduler'];
  let textWidth = te1.hidden;
  if (kind === 'sdxl') {
    for (const p of ['text_encoder_2/config.json', 'tokenizer_2/vocab.json', 'tokenizer_2/merges.txt']) {
      if (!has.has(p)) throw new ModelFileError('missing-file', p, 'an SDXL pipeline needs its second text encoder and tokenizer, and this file is missing');
    }
    const te2 = await checkTextEncoder(open, 'text_encoder_2', weightsOf('text_encoder_2/model'), true);
    textWidth += te2.hidden;
    const pooled = unet.projectionClassEmbeddingsInputDim! - 6 * unet.additionTimeEmbedDim!;
    if (pooled !== te2.projection) {
      throw new ModelFileError('wrong-model', 'text_encoder_2/config.json', `the projection width ${te2.projection} does not match the ${pooled} the UNet's add embedding expects`, 'projection_dim');
    }
    components.splice(3, 0, 'text_encoder_2');
    components.push('tokenizer_2');
  }
  if (unet.crossAttentionDim.some((d) => d !== textWidth)) {
    throw new ModelFileError('wrong-model', 'unet/config.json', `the UNet attends to ${unet.crossAttentionDim[0]}-wide text, but the text encoders give ${textWidth}`, 'cross_attention_dim');
  }
  for (const p of ['tokenizer/vocab.json', 'tokenizer/merges.txt', 'scheduler/scheduler_config.json']) {
    if (!has.has(p)) throw new ModelFileError('missing-file', p, 'the pipeline needs this file and it is missing');
  }
  checkScheduler(await readJson(open, 'scheduler/scheduler_config.json'), 'scheduler/scheduler_config.json');
  return { kind, components, needs: [] };
}

/**
 * What the sampling loop can run (text-to-image.ts, image-to-image.ts): 4 latent channels, a UNet that
 * predicts them from those 4 (or from 9: an inpainting UNet), and a VAE whose 3 image channels are RGB.
 * Anything else is refused at import with the reason, instead of being "verified" and then failing or
 * drawing a wrong picture at the first generation. The latent factor itself is read from the VAE config
 * wherever sizes are made (any number of VAE levels runs).
 */
function checkRunnable(unet: ReturnType<typeof parseUNetConfig>, vae: ReturnType<typeof parseVaeConfig>): void {
  const latent = vae.latentChannels;
  if (latent !== 4) throw new ModelFileError('unsupported-model', 'vae/config.json', `the VAE has ${latent} latent channels; the studio runs models with 4`, 'latent_channels');
  if (vae.inChannels !== 3 || vae.outChannels !== 3) throw new ModelFileError('unsupported-model', 'vae/config.json', `the VAE maps ${vae.inChannels}-channel images to ${vae.outChannels}; the studio runs RGB (3-channel) VAEs`, 'out_channels');
  if (unet.outChannels !== latent) throw new ModelFileError('unsupported-model', 'unet/config.json', `the UNet predicts ${unet.outChannels} channels but the VAE's latents have ${latent}`, 'out_channels');
  if (unet.inChannels !== latent && unet.inChannels !== 2 * latent + 1) {
    throw new ModelFileError('unsupported-model', 'unet/config.json', `the UNet takes ${unet.inChannels} input channels; the studio runs ${latent}-channel models and ${2 * latent + 1}-channel inpainting models`, 'in_channels');
  }
}

/**
 * The noise schedule the samplers are built from (schedulers/common.ts): a beta schedule they compute
 * and a prediction type they convert (prediction.ts). Refused at import, not at the first generation.
 */
function checkScheduler(json: Json, file: string): void {
  const c = json as unknown as SchedulerConfig;
  const fail = (field: string, why: string): never => {
    throw new ModelFileError('bad-config', file, why, field);
  };
  if (!Number.isSafeInteger(c.num_train_timesteps) || c.num_train_timesteps < 2) fail('num_train_timesteps', `expected an integer ≥ 2, found ${JSON.stringify(c.num_train_timesteps)}`);
  if (json.trained_betas != null) fail('trained_betas', 'a schedule given as a list of betas is not supported (only linear and scaled_linear)');
  try {
    betas(c);
    predictionTypeOf(c);
  } catch (err) {
    const e = err as Error & { field?: string };
    fail(e.field ?? 'beta_schedule', `the studio cannot sample with this schedule: ${e.message}`);
  }
}

/**
 * What the model still needs after import: the tokenizers' vocab/merges that were not supplied beside
 * the checkpoint (the configs and the scheduler come from the file itself: src/engine/single-file-source.ts).
 */
function singleFileNeeds(paths: ReadonlySet<string>, tokenizers: readonly string[]): ModelNeed[] {
  const from = 'a verified diffusers import of an SDXL model on this device (for example stabilityai/stable-diffusion-xl-base-1.0), or the tokenizer folders imported beside the checkpoint';
  return Object.entries(SINGLE_FILE_TOKENIZER_FILES)
    .filter(([component, files]) => tokenizers.includes(component) && files.some((f) => !paths.has(f)))
    .map(([component, files]) => ({ component, files, from }));
}

/**
 * Checks a single-file checkpoint (SGM/LDM names): its configs read off the tensors, every UNet, VAE and
 * text-encoder tensor they imply, and that the studio can run it (the pipeline family its configs make,
 * pipeline-family.ts: SDXL with the VAE and both text encoders, or the SD-1.5 family with the VAE and
 * CLIP-L); `paths` are all the files stored with it (tokenizer files supplied beside it).
 */
export async function verifySingleFile(open: OpenFile, path: string, label = path, paths: readonly string[] = [path]): Promise<Verified> {
  const file = await openSafetensors(open, path, label);
  const plan = planSingleFile(file);
  const unet = parseUNetConfig(plan.configs.unet, `${label} (UNet config read off its tensors)`);
  const encoders = plan.kind === 'sdxl' ? ['text_encoder', 'text_encoder_2'] : ['text_encoder'];
  const missing = ['vae', ...encoders].filter((c) => !plan.components.includes(c as Component));
  if (missing.length > 0) {
    const all = plan.kind === 'sdxl' ? 'both text encoders' : 'its CLIP text encoder';
    throw new ModelFileError('missing-tensor', label, `the checkpoint has no ${missing.map((c) => c.replace(/_/g, ' ')).join(', ')}; the studio needs a checkpoint that holds the UNet, the VAE and ${all}`);
  }
  const kind = pipelineFamilyOf({ file: label, additionEmbedType: unet.additionEmbedType, textEncoders: encoders.length });
  const slots = kind === 'sdxl' ? ['tokenizer', 'tokenizer_2'] : ['tokenizer'];
  const has = new Set(paths);
  const tokenizers = Object.entries(SINGLE_FILE_TOKENIZER_FILES).filter(([c, files]) => slots.includes(c) && files.every((f) => has.has(f))).map(([c]) => c);
  return { kind, components: [...plan.components, ...tokenizers], needs: singleFileNeeds(has, slots) };
}
