/**
 * Where a model's parts come from (an SDXL or SD-1.5-family pipeline, src/diffusion/pipeline-family.ts),
 * before anything is uploaded: its tokenizers, configs and a loader per weight component. Two layouts
 * give the same SdxlSource, so loadSdxlModel (sdxl-model.ts) assembles the pipeline one way for both:
 *  - a diffusers folder (model_index.json, <component>/config.json, <component>/*.safetensors; the fp16
 *    variant `*.fp16.safetensors`, what the hub serves for SDXL, is preferred when present);
 *  - a single-file checkpoint (single-file-source.ts).
 * sdxl-model.ts's openSdxlSource tells them apart.
 * The safetensors reader converts any stored dtype (F32, F16, BF16) to the compute dtype.
 */
import type { SchedulerConfig } from '../diffusion/schedulers';
import type { GpuContext } from '../gpu/context';
import { forceZerosForEmptyPrompt, pipelineFamilyOf, type PipelineFamily } from '../diffusion/pipeline-family';
import { parseUNetConfig, parseVaeConfig, type VaeConfig } from '../model/config';
import { ModelFileError } from '../model/errors';
import { firstExisting, readJson, type ModelFiles } from '../model/model-files';
import { SafetensorsFile } from '../model/safetensors/reader';
import { withReadAhead } from '../model/safetensors/source';
import { parseTextEncoderConfig, type TextEncoderConfig } from '../model/text-encoder/config';
import { loadTextEncoder, type LoadedTextEncoder, type LoadTextEncoderOptions } from '../model/text-encoder/load';
import { ClipTokenizer, type ClipTokenizerConfig } from '../model/tokenizer/clip-bpe';
import type { UNetConfigJson } from '../model/unet/arch';
import { loadUNet, type LoadedUNet, type LoadUNetOptions } from '../model/unet/load';
import { loadVae, type LoadedVae, type LoadVaeOptions } from '../model/vae/load';

export type TextEncoderSlot = 'text_encoder' | 'text_encoder_2';

export interface SdxlSource {
  /** From the configs (pipeline-family.ts): which encoders, conditioning and negative rule apply. */
  readonly family: PipelineFamily;
  readonly forceZerosForEmptyPrompt: boolean;
  /** In text-encoder order (tokenizer, tokenizer_2); one per entry of textEncoderSlots. */
  readonly tokenizers: readonly ClipTokenizer[];
  /** The text encoders the family has: both for SDXL, text_encoder alone for SD-1.5. */
  readonly textEncoderSlots: readonly TextEncoderSlot[];
  readonly schedulerConfig: SchedulerConfig;
  readonly textEncoderConfigs: Readonly<Partial<Record<TextEncoderSlot, TextEncoderConfig>>>;
  readonly unetConfig: UNetConfigJson;
  readonly vaeConfig: VaeConfig;
  loadTextEncoder(ctx: GpuContext, slot: TextEncoderSlot, o: LoadTextEncoderOptions): Promise<LoadedTextEncoder>;
  loadUNet(ctx: GpuContext, o: LoadUNetOptions): Promise<LoadedUNet>;
  loadVae(ctx: GpuContext, o: LoadVaeOptions): Promise<LoadedVae>;
}

/** Builds a tokenizer from vocab.json and merges.txt of `dir` with `config`, naming the folder when they are unusable. */
export async function tokenizerFrom(files: ModelFiles, dir: string, config: (files: ModelFiles) => Promise<ClipTokenizerConfig>): Promise<ClipTokenizer> {
  const [vocab, merges, cfg] = await Promise.all([files.text(`${dir}/vocab.json`), files.text(`${dir}/merges.txt`), config(files)]);
  try {
    return ClipTokenizer.fromFiles(vocab, merges, cfg);
  } catch (err) {
    throw new ModelFileError('bad-config', `${files.label}/${dir}`, `the tokenizer files are unusable (${(err as Error).message})`);
  }
}

/** Opens a weights file, reads `fn` from it and closes it (a file handle per component, never the whole file in memory). */
export async function withWeights<T>(files: ModelFiles, path: string, fn: (f: SafetensorsFile) => Promise<T>): Promise<T> {
  const f = await SafetensorsFile.open(withReadAhead(await files.source(path)));
  try {
    return await fn(f);
  } finally {
    await f.close();
  }
}

interface ModelIndex {
  _class_name?: string;
  force_zeros_for_empty_prompt?: boolean;
  /** [library, class], or [null, null] where a pipeline leaves the component out. */
  text_encoder_2?: unknown;
}

/** Text encoders a model_index.json lists (text_encoder_2 present and not [null, null]). */
function textEncoderCount(index: ModelIndex): number {
  const te2 = index.text_encoder_2;
  return 1 + (Array.isArray(te2) && te2.some((v) => v !== null) ? 1 : 0);
}

const weightsPath = (dir: string, base: string) => [`${dir}/${base}.fp16.safetensors`, `${dir}/${base}.safetensors`];

/** The config of a text encoder the model has; a slot its family lacks is a programming error, named. */
export function slotConfig(label: string, configs: Readonly<Partial<Record<TextEncoderSlot, TextEncoderConfig>>>, slot: TextEncoderSlot): TextEncoderConfig {
  const c = configs[slot];
  if (!c) throw new ModelFileError('missing-file', `${label}/${slot}`, 'this model has no such text encoder');
  return c;
}

export async function openDiffusersSource(files: ModelFiles): Promise<SdxlSource> {
  const index = await readJson<ModelIndex>(files, 'model_index.json');
  const unetConfig = await readJson<UNetConfigJson>(files, 'unet/config.json');
  const family = pipelineFamilyOf({
    file: `${files.label}/model_index.json`,
    additionEmbedType: parseUNetConfig(unetConfig, `${files.label}/unet/config.json`).additionEmbedType,
    textEncoders: textEncoderCount(index),
    ...(index._class_name ? { className: index._class_name } : {}),
  });
  const textEncoderSlots: TextEncoderSlot[] = family === 'sdxl' ? ['text_encoder', 'text_encoder_2'] : ['text_encoder'];
  const tokDir = (slot: TextEncoderSlot) => (slot === 'text_encoder' ? 'tokenizer' : 'tokenizer_2');
  const tokConfig = (dir: string) => async (f: ModelFiles) => ClipTokenizer.configFromJson(await f.text(`${dir}/tokenizer_config.json`));
  const tokenizers = await Promise.all(textEncoderSlots.map((slot) => tokenizerFrom(files, tokDir(slot), tokConfig(tokDir(slot)))));
  const schedulerConfig = await readJson<SchedulerConfig>(files, 'scheduler/scheduler_config.json');
  const textEncoderConfigs: Partial<Record<TextEncoderSlot, TextEncoderConfig>> = {};
  for (const slot of textEncoderSlots) {
    // SDXL's second encoder is CLIPTextModelWithProjection (its text_embeds are the pooled conditioning)
    textEncoderConfigs[slot] = parseTextEncoderConfig(await readJson(files, `${slot}/config.json`), { file: `${files.label}/${slot}/config.json`, withProjection: slot === 'text_encoder_2' });
  }
  const vaeConfig = parseVaeConfig(await readJson(files, 'vae/config.json'), `${files.label}/vae/config.json`);
  const withFile = async <T>(dir: string, base: string, fn: (f: SafetensorsFile) => Promise<T>): Promise<T> =>
    withWeights(files, await firstExisting(files, weightsPath(dir, base)), fn);
  return {
    family,
    forceZerosForEmptyPrompt: forceZerosForEmptyPrompt(family, index.force_zeros_for_empty_prompt),
    tokenizers,
    textEncoderSlots,
    schedulerConfig,
    textEncoderConfigs,
    unetConfig,
    vaeConfig,
    loadTextEncoder: (ctx, slot, o) => withFile(slot, 'model', (f) => loadTextEncoder(ctx, f, slotConfig(files.label, textEncoderConfigs, slot), o)),
    loadUNet: (ctx, o) => withFile('unet', 'diffusion_pytorch_model', (f) => loadUNet(ctx, f, unetConfig, o)),
    loadVae: (ctx, o) => withFile('vae', 'diffusion_pytorch_model', (f) => loadVae(ctx, f, vaeConfig, o)),
  };
}
