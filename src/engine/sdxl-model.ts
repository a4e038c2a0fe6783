/**
 * Loads an SDXL diffusers model (model_index.json, tokenizers, both text encoders, UNet, VAE decoder,
 * scheduler config) from a ModelFiles into GPU tensors and assembles the parts the sampling loop
 * needs. Every component's file is checked (names, shapes) before its upload starts, so a wrong or
 * damaged model fails with a ModelFileError that names the file, and nothing stays allocated.
 * Weight files: the fp16 variant (`*.fp16.safetensors`, what the hub serves for SDXL) is preferred
 * when present; the safetensors reader converts any stored dtype to the compute dtype.
 */
import type { GpuContext } from '../gpu/context';
import type { DType } from '../gpu/tensor';
import { ModelFileError } from '../model/errors';
import { firstExisting, readJson, type ModelFiles } from '../model/model-files';
import { SafetensorsFile } from '../model/safetensors/reader';
import { withReadAhead } from '../model/safetensors/source';
import { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import { parseTextEncoderConfig } from '../model/text-encoder/config';
import { destroyTextEncoder, loadTextEncoder, type LoadedTextEncoder } from '../model/text-encoder/load';
import { encodeSdxlPrompt, tokenizeSdxlPrompts } from '../model/text-encoder/sdxl-prompt';
import { encodeSdxlChunked, sdxlPromptChunks, tokenizeSdxlChunked } from '../model/text-encoder/long-prompt';
import type { UNetConfigJson } from '../model/unet/arch';
import { GpuUNetBackend } from '../model/unet/gpu-backend';
import { destroyUNet, loadUNet, type LoadedUNet } from '../model/unet/load';
import { parseVaeConfig } from '../model/config';
import { destroyVae, loadVae, type LoadedVae } from '../model/vae/load';
import { vaeDecodeAuto } from '../model/vae/tiled';
import type { SchedulerConfig } from '../diffusion/schedulers';
import type { SdxlPipelineParts } from '../diffusion/text-to-image';
import type { CidmModel } from '../cidm/train/cidm-step';
import type { NoiseScheduleConfig } from '../cidm/train/noising';

export interface LoadedSdxlModel {
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
  dtype: DType;
  signal?: AbortSignal;
  onProgress?(component: string, done: number, total: number): void;
}

const weightsPath = (dir: string, base: string) => [`${dir}/${base}.fp16.safetensors`, `${dir}/${base}.safetensors`];

async function openWeights(files: ModelFiles, dir: string, base: string): Promise<SafetensorsFile> {
  const path = await firstExisting(files, weightsPath(dir, base));
  return SafetensorsFile.open(withReadAhead(await files.source(path)));
}

async function loadTokenizer(files: ModelFiles, dir: string): Promise<ClipTokenizer> {
  const [vocab, merges, config] = await Promise.all([files.text(`${dir}/vocab.json`), files.text(`${dir}/merges.txt`), files.text(`${dir}/tokenizer_config.json`)]);
  try {
    return ClipTokenizer.fromFiles(vocab, merges, ClipTokenizer.configFromJson(config));
  } catch (err) {
    throw new ModelFileError('bad-config', `${files.label}/${dir}`, `the tokenizer files are unusable (${(err as Error).message})`);
  }
}

interface ModelIndex {
  _class_name?: string;
  force_zeros_for_empty_prompt?: boolean;
}

export async function loadSdxlModel(ctx: GpuContext, files: ModelFiles, o: LoadSdxlOptions): Promise<LoadedSdxlModel> {
  const index = await readJson<ModelIndex>(files, 'model_index.json');
  if (index._class_name && !/StableDiffusionXL/.test(index._class_name)) {
    throw new ModelFileError('wrong-model', `${files.label}/model_index.json`, `this is a ${index._class_name}, not an SDXL text-to-image pipeline`);
  }
  const [tok1, tok2] = await Promise.all([loadTokenizer(files, 'tokenizer'), loadTokenizer(files, 'tokenizer_2')]);
  const schedulerConfig = await readJson<SchedulerConfig>(files, 'scheduler/scheduler_config.json');
  const te1Config = parseTextEncoderConfig(await readJson(files, 'text_encoder/config.json'), { file: `${files.label}/text_encoder/config.json` });
  const te2Config = parseTextEncoderConfig(await readJson(files, 'text_encoder_2/config.json'), { file: `${files.label}/text_encoder_2/config.json`, withProjection: true });
  const unetConfig = await readJson<UNetConfigJson>(files, 'unet/config.json');
  const vaeConfig = parseVaeConfig(await readJson(files, 'vae/config.json'), `${files.label}/vae/config.json`);

  const vaeDtype: DType = vaeConfig.forceUpcast ? 'f32' : o.dtype;
  let te1: LoadedTextEncoder | null = null;
  let te2: LoadedTextEncoder | null = null;
  let unet: LoadedUNet | null = null;
  let vae: LoadedVae | null = null;
  const destroy = () => {
    if (te1) destroyTextEncoder(ctx, te1);
    if (te2) destroyTextEncoder(ctx, te2);
    if (unet) destroyUNet(ctx, unet);
    if (vae) destroyVae(ctx, vae);
    te1 = te2 = unet = vae = null;
  };
  const progress = (component: string) => (done: number, total: number) => o.onProgress?.(component, done, total);
  const withFile = async <T>(dir: string, base: string, fn: (f: SafetensorsFile) => Promise<T>): Promise<T> => {
    const f = await openWeights(files, dir, base);
    try {
      return await fn(f);
    } finally {
      await f.close();
    }
  };
  try {
    const common = { dtype: o.dtype, signal: o.signal };
    te1 = await withFile('text_encoder', 'model', (f) => loadTextEncoder(ctx, f, te1Config, { ...common, onProgress: progress('text_encoder') }));
    te2 = await withFile('text_encoder_2', 'model', (f) => loadTextEncoder(ctx, f, te2Config, { ...common, onProgress: progress('text_encoder_2') }));
    unet = await withFile('unet', 'diffusion_pytorch_model', (f) => loadUNet(ctx, f, unetConfig, { ...common, onProgress: progress('unet') }));
    // diffusers upcasts an SDXL VAE (force_upcast) to f32: its decoder activations overflow f16's 65504
    vae = await withFile('vae', 'diffusion_pytorch_model', (f) =>
      loadVae(ctx, f, vaeConfig, { dtype: vaeDtype, signal: o.signal, parts: ['decoder'], onProgress: progress('vae') }),
    );
  } catch (err) {
    destroy();
    throw err;
  }
  const loaded = { te1: te1!, te2: te2!, unet: unet!, vae: vae! };
  const parts: SdxlPipelineParts = {
    ctx,
    dtype: o.dtype,
    unetArch: loaded.unet.arch,
    unet: new GpuUNetBackend(ctx, loaded.unet.weights, o.dtype, `${files.label}/unet`),
    schedulerConfig,
    forceZerosForEmptyPrompt: index.force_zeros_for_empty_prompt ?? true,
    vaeScalingFactor: vaeConfig.scalingFactor,
    vaeDtype,
    async encodePrompt(prompt, enc) {
      if (enc?.mode === 'chunked') {
        const ids = tokenizeSdxlChunked(tok1, tok2, prompt, { emphasis: enc.emphasis ?? false, minChunks: enc.chunks ?? 1 });
        return encodeSdxlChunked(ctx, loaded.te1, loaded.te2, ids);
      }
      const { ids1, ids2 } = tokenizeSdxlPrompts(tok1, tok2, [prompt]);
      return encodeSdxlPrompt(ctx, loaded.te1, loaded.te2, ids1, ids2);
    },
    promptChunks: (prompt, enc) => sdxlPromptChunks(tok1, tok2, prompt, { emphasis: enc.emphasis ?? false }),
    // low memory: tiles with at most 32 MiB per binding (more, smaller tiles; a quarter of the default budget)
    decode: (latents, signal, d) => vaeDecodeAuto(ctx, loaded.vae, latents, { signal, ...(d?.lowMemory ? { maxBindingBytes: 32 << 20 } : {}) }),
  };
  const gpuBytes = loaded.te1.bytes + loaded.te2.bytes + loaded.unet.bytes + loaded.vae.bytes;
  const training: SdxlTrainingParts = {
    tokenizers: [tok1, tok2],
    model: { unet: loaded.unet, encoders: [loaded.te1, loaded.te2], dtype: o.dtype },
    schedule: schedulerConfig,
    loadVaeEncoder: (signal, onProgress) =>
      withFile('vae', 'diffusion_pytorch_model', (f) => loadVae(ctx, f, vaeConfig, { dtype: vaeDtype, signal, parts: ['encoder'], ...(onProgress ? { onProgress } : {}) })),
  };
  return { parts, unetConfig, gpuBytes, training, destroy };
}
