/**
 * Loads an SDXL or SD-1.5-family model (tokenizers, its text encoders, UNet, VAE decoder, scheduler
 * config; the family from its configs, src/diffusion/pipeline-family.ts) from a
 * ModelFiles into GPU tensors and assembles the parts the sampling loop needs: a diffusers folder or a
 * single-file checkpoint, through one SdxlSource (sdxl-source.ts, single-file-source.ts). Every
 * component's tensors are checked (names, shapes) before its upload starts, so a wrong or damaged model
 * fails with a ModelFileError that names the file, and nothing stays allocated.
 */
import type { GpuContext } from '../gpu/context';
import type { DType } from '../gpu/tensor';
import { SINGLE_FILE_CHECKPOINT, type ModelFiles } from '../model/model-files';
import type { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import { destroyTextEncoder, type LoadedTextEncoder } from '../model/text-encoder/load';
import { encodeSdxlPrompt, tokenizeSdxlPrompts } from '../model/text-encoder/sdxl-prompt';
import { encodeSd15Prompt, tokenizeSd15Prompts } from '../model/text-encoder/sd15-prompt';
import type { PipelineFamily } from '../diffusion/pipeline-family';
import { latentRgbFitFor } from '../diffusion/latent-preview';
import { encodeSdxlChunked, sdxlPromptChunks, tokenizeSdxlChunked } from '../model/text-encoder/long-prompt';
import type { UNetConfigJson } from '../model/unet/arch';
import { GpuUNetBackend } from '../model/unet/gpu-backend';
import { destroyUNet, type LoadedUNet } from '../model/unet/load';
import { destroyVae, type LoadedVae } from '../model/vae/load';
import { vaeDecodeAuto, vaeDecodeAutoHost, vaeEncodeAuto } from '../model/vae/tiled';
import type { PromptEmbedding, SdxlPipelineParts } from '../diffusion/text-to-image';
import type { PromptEncoding } from '../model/text-encoder/long-prompt';
import type { CidmModel } from '../cidm/train/cidm-step';
import type { NoiseScheduleConfig } from '../cidm/train/noising';
import { openDiffusersSource, type SdxlSource } from './sdxl-source';
import { openSingleFileSource } from './single-file-source';

export interface LoadedSdxlModel {
  /** Which pipeline the configs make (pipeline-family.ts). */
  family: PipelineFamily;
  parts: SdxlPipelineParts;
  /** The UNet's config.json (the size check plans a step from it). */
  unetConfig: UNetConfigJson;
  gpuBytes: number;
  /** What concept training needs beside the sampling parts (train-job.ts). */
  training: SdxlTrainingParts;
  destroy(): void;
}

/** The loaded model as concept training sees it: the same resident weights, plus the VAE encoder on demand. */
export interface SdxlTrainingParts {
  /** In text-encoder order (tokenizer, tokenizer_2). */
  tokenizers: readonly ClipTokenizer[];
  model: CidmModel;
  /** The training noise schedule (the scheduler config's beta fields, spec §1.6). */
  schedule: NoiseScheduleConfig;
  /**
   * Loads the VAE encoder, which sampling does not keep resident (text-to-image needs only the
   * decoder): the caller encodes the photos and destroys it (destroyVae) before training.
   */
  loadVaeEncoder(signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<LoadedVae>;
}

export interface LoadSdxlOptions {
  /** The compute (activation) dtype. */
  dtype: DType;
  /**
   * Keep the matrices, conv kernels and token tables as packed f16 under f32 compute: the path of a
   * device without shader-f16 (model/weights/storage-dtype.ts), half the GPU memory of f32 weights.
   */
  packWeights?: boolean;
  signal?: AbortSignal;
  onProgress?(component: string, done: number, total: number): void;
}

/**
 * A prompt through the given encoders: the loaded ones, or copies whose weights carry plain LoRAs
 * (engine-lora.ts), so both encode exactly alike. Two encoders: SDXL's conditioning; one: the SD-1.5
 * family's (its last_hidden_state, sd15-prompt.ts; no chunked mode: promptChunks is absent for it).
 */
export async function encodeSdxlPromptWith(
  ctx: GpuContext, [tok1, tok2]: readonly ClipTokenizer[], [te1, te2]: readonly LoadedTextEncoder[], prompt: string, enc?: PromptEncoding,
): Promise<PromptEmbedding> {
  if (!te2) {
    if (enc?.mode === 'chunked') throw new RangeError('an SD-1.5-family model encodes prompts in truncate mode only');
    return encodeSd15Prompt(ctx, te1!, tokenizeSd15Prompts(tok1!, [prompt]));
  }
  if (enc?.mode === 'chunked') {
    const ids = tokenizeSdxlChunked(tok1!, tok2!, prompt, { emphasis: enc.emphasis ?? false, minChunks: enc.chunks ?? 1 });
    return encodeSdxlChunked(ctx, te1!, te2!, ids);
  }
  const { ids1, ids2 } = tokenizeSdxlPrompts(tok1!, tok2!, [prompt]);
  return encodeSdxlPrompt(ctx, te1!, te2!, ids1, ids2);
}

/** The model's source by its layout: a diffusers folder, or a single-file checkpoint (no model_index.json). */
export async function openSdxlSource(files: ModelFiles): Promise<SdxlSource> {
  if (!(await files.exists('model_index.json')) && (await files.exists(SINGLE_FILE_CHECKPOINT))) return openSingleFileSource(files);
  return openDiffusersSource(files);
}

export async function loadSdxlModel(ctx: GpuContext, files: ModelFiles, o: LoadSdxlOptions): Promise<LoadedSdxlModel> {
  const src = await openSdxlSource(files);
  const tokenizers = src.tokenizers;
  const [tok1, tok2] = tokenizers;
  const { schedulerConfig, unetConfig, vaeConfig } = src;

  const vaeDtype: DType = vaeConfig.forceUpcast ? 'f32' : o.dtype;
  // Packed weights need f32 compute (their kernels unpack into f32 math).
  const packWeights = (o.packWeights ?? false) && o.dtype === 'f32';
  let encoders: LoadedTextEncoder[] = [];
  let unet: LoadedUNet | null = null;
  let vae: LoadedVae | null = null;
  const destroy = () => {
    for (const te of encoders) destroyTextEncoder(ctx, te);
    if (unet) destroyUNet(ctx, unet);
    if (vae) destroyVae(ctx, vae);
    encoders = [];
    unet = vae = null;
  };
  const progress = (component: string) => (done: number, total: number) => o.onProgress?.(component, done, total);
  try {
    const common = { dtype: o.dtype, signal: o.signal, packWeights };
    for (const slot of src.textEncoderSlots) encoders.push(await src.loadTextEncoder(ctx, slot, { ...common, onProgress: progress(slot) }));
    unet = await src.loadUNet(ctx, { ...common, onProgress: progress('unet') });
    // diffusers upcasts an SDXL VAE (force_upcast) to f32: its decoder activations overflow f16's 65504
    vae = await src.loadVae(ctx, { dtype: vaeDtype, packWeights, signal: o.signal, parts: ['decoder'], onProgress: progress('vae') });
  } catch (err) {
    destroy();
    throw err;
  }
  const loaded = { encoders: [...encoders], unet: unet!, vae: vae! };
  const parts: SdxlPipelineParts = {
    ctx,
    dtype: o.dtype,
    unetArch: loaded.unet.arch,
    unet: new GpuUNetBackend(ctx, loaded.unet.weights, o.dtype, `${files.label}/unet`),
    schedulerConfig,
    forceZerosForEmptyPrompt: src.forceZerosForEmptyPrompt,
    previewFit: latentRgbFitFor(src.family),
    vaeScalingFactor: vaeConfig.scalingFactor,
    latentFactor: loaded.vae.arch.factor,
    vaeDtype,
    encodePrompt: (prompt, enc) => encodeSdxlPromptWith(ctx, tokenizers, loaded.encoders, prompt, enc),
    ...(src.family === 'sdxl' ? { promptChunks: (prompt: string, enc: PromptEncoding) => sdxlPromptChunks(tok1!, tok2!, prompt, { emphasis: enc.emphasis ?? false }) } : {}),
    // default: whole, or in bands with whole-image GroupNorm statistics (exact) when a binding would not fit.
    // low memory: the approximate independent tiles with at most 32 MiB per binding (one tile's working
    // set resident instead of the whole image's activations; a quarter of the default binding budget)
    // Either way, a decode (or encode) that runs out of GPU memory retries in tiles (tiled.ts withTileFallback).
    decode: (latents, signal, d) => vaeDecodeAuto(ctx, loaded.vae, latents, { signal, onOutOfMemory: (n) => warnTiled('decode', n), ...(d?.lowMemory ? { maxBindingBytes: 32 << 20, lowMemory: true } : {}) }),
    decodeToHost: (latents, signal, d) => vaeDecodeAutoHost(ctx, loaded.vae, latents, { signal, onOutOfMemory: (n) => warnTiled('decode', n), ...(d?.lowMemory ? { maxBindingBytes: 32 << 20, lowMemory: true } : {}) }),
    // image to image: the encoder is loaded for the run and freed after (sampling keeps only the decoder resident)
    async encodeImages(images, signal) {
      const encoder = await src.loadVae(ctx, { dtype: vaeDtype, packWeights, signal, parts: ['encoder'] });
      try {
        const means: Float32Array[] = [];
        for (const image of images) means.push((await vaeEncodeAuto(ctx, encoder, image, { signal, onOutOfMemory: (n) => warnTiled('encode', n) })).posterior.mean);
        return means;
      } finally {
        destroyVae(ctx, encoder);
      }
    },
  };
  const gpuBytes = loaded.encoders.reduce((a, te) => a + te.bytes, 0) + loaded.unet.bytes + loaded.vae.bytes;
  const training: SdxlTrainingParts = {
    tokenizers,
    model: { unet: loaded.unet, encoders: loaded.encoders, dtype: o.dtype },
    schedule: schedulerConfig,
    loadVaeEncoder: (signal, onProgress) =>
      src.loadVae(ctx, { dtype: vaeDtype, packWeights, signal, parts: ['encoder'], ...(onProgress ? { onProgress } : {}) }),
  };
  return { family: src.family, parts, unetConfig, gpuBytes, training, destroy };
}

/** The console note of a VAE run that ran out of GPU memory and went on in tiles (tiled.ts withTileFallback). */
function warnTiled(op: 'decode' | 'encode', tiles: number): void {
  const seams = op === 'decode' ? 'the image may show faint seams' : 'the encoded image may differ slightly at the seams';
  console.warn(`VAE ${op} ran out of GPU memory; running it in ${tiles} tiles instead (${seams}). Low memory on the Settings page avoids the retry.`);
}
