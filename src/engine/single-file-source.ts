/**
 * A single-file checkpoint (SDXL's SGM layout or the SD-1.5 family's LDM layout,
 * src/model/weights/single-file.ts) as an SdxlSource: one .safetensors at SINGLE_FILE_CHECKPOINT holds
 * the UNet, the VAE and the text encoder(s) (both for SDXL, CLIP-L alone for SD-1.5), in F32, F16 or
 * BF16 (converted to the compute dtype while reading). Each component streams from the file tensor by
 * tensor through its weight mappings (renames, 1×1-conv reshapes, OpenCLIP's q/k/v split and
 * transposed projection), exactly as a diffusers folder's files would, so the same weights give the
 * same image in either layout (single-file.gpu.test.ts).
 *
 * What the file does not carry, and where it comes from (design, issue 12):
 *  - configs: read off the tensor shapes (infer-config.ts), with the metadata hints of config-hints.ts;
 *  - scheduler: the DDPM schedule of the original yaml, which is stabilityai's scheduler_config.json
 *    (infer-config.ts SINGLE_FILE_SCHEDULER); a `v_pred` marker selects v-prediction;
 *  - the pipeline family: from the configs read off the tensors (pipeline-family.ts: the UNet's added
 *    embedding and the text encoders present); SD-1.5's absent negative is the empty string encoded;
 *  - tokenizer settings: CLIP-L's for SD-1.5 and SDXL's first slot, fixed by the encoder slot (diffusers single_file_utils loads CLIP-L's
 *    tokenizer as is and OpenCLIP-bigG's with pad_token "!"), so no tokenizer_config.json is needed;
 *  - the BPE vocabulary (tokenizer/ and tokenizer_2/ vocab.json + merges.txt): from the model's files.
 *    The studio's import stores those the person supplies beside the checkpoint (a folder with the file
 *    and its tokenizer folders) with the model, and otherwise takes them from a verified diffusers import
 *    of SDXL on the device (storage/models/store.ts modelFiles); both live in OPFS, so a single-file
 *    model works offline once imported. The vocabulary is not bundled with the app: it is 1.4 MB that
 *    every visitor's service worker would precache for the few who import single files.
 */
import { forceZerosForEmptyPrompt, pipelineFamilyOf } from '../diffusion/pipeline-family';
import { parseUNetConfig, parseVaeConfig } from '../model/config';
import { ModelFileError } from '../model/errors';
import { SINGLE_FILE_CHECKPOINT, type ModelFiles } from '../model/model-files';
import { parseTextEncoderConfig, type TextEncoderConfig } from '../model/text-encoder/config';
import { loadTextEncoder } from '../model/text-encoder/load';
import { mappedTensorSource } from '../model/text-encoder/source';
import type { ClipTokenizerConfig } from '../model/tokenizer/clip-bpe';
import { loadUNet } from '../model/unet/load';
import { loadVae } from '../model/vae/load';
import { componentMappings, planSingleFile } from '../model/weights/single-file';
import { sgmUNetNameMap } from '../model/weights/unet-sgm';
import { slotConfig, tokenizerFrom, withWeights, type SdxlSource, type TextEncoderSlot } from './sdxl-source';

/** SDXL's tokenizer_config.json values (stabilityai/stable-diffusion-xl-base-1.0 tokenizer/, tokenizer_2/). */
const SDXL_TOKENIZER_CONFIGS: readonly [ClipTokenizerConfig, ClipTokenizerConfig] = [
  { padToken: '<|endoftext|>', bosToken: '<|startoftext|>', eosToken: '<|endoftext|>', unkToken: '<|endoftext|>', maxLength: 77 },
  { padToken: '!', bosToken: '<|startoftext|>', eosToken: '<|endoftext|>', unkToken: '<|endoftext|>', maxLength: 77 },
];

/** Components the pipeline needs from the file, by family (a UNet-only or VAE-less file is refused by name). */
const NEEDED = { sdxl: ['vae', 'text_encoder', 'text_encoder_2'], sd15: ['vae', 'text_encoder'] } as const;

export async function openSingleFileSource(files: ModelFiles): Promise<SdxlSource> {
  const plan = await withWeights(files, SINGLE_FILE_CHECKPOINT, async (f) => planSingleFile(f));
  const label = `${files.label}/${SINGLE_FILE_CHECKPOINT}`;
  const c = plan.configs;
  const unetConfig = c.unet;
  const unet = parseUNetConfig(unetConfig, label);
  const textEncoderSlots: TextEncoderSlot[] = plan.components.includes('text_encoder_2') ? ['text_encoder', 'text_encoder_2'] : ['text_encoder'];
  const family = pipelineFamilyOf({ file: label, additionEmbedType: unet.additionEmbedType, textEncoders: textEncoderSlots.length });
  for (const need of NEEDED[family]) {
    if (!plan.components.includes(need)) {
      throw new ModelFileError('missing-file', label, `the checkpoint has no ${need.replace(/_/g, ' ')}; use one that holds the UNet, the VAE and ${family === 'sdxl' ? 'both text encoders' : 'the text encoder'}`);
    }
  }
  const vaeConfig = parseVaeConfig(c.vae, `${label} (VAE config read off its tensors)`);
  const textEncoderConfigs: Partial<Record<TextEncoderSlot, TextEncoderConfig>> = {
    text_encoder: parseTextEncoderConfig(c.textEncoder, { file: `${label} (CLIP-L config read off its tensors)` }),
  };
  if (family === 'sdxl') textEncoderConfigs.text_encoder_2 = parseTextEncoderConfig(c.textEncoder2, { file: `${label} (OpenCLIP-bigG config read off its tensors)`, withProjection: true });
  const tokenizers = await Promise.all(
    textEncoderSlots.map((slot, k) => tokenizerFrom(files, k === 0 ? 'tokenizer' : 'tokenizer_2', async () => SDXL_TOKENIZER_CONFIGS[k]!)),
  );
  const { toSource } = sgmUNetNameMap(unet);
  const inFile = (name: string) => toSource.get(name) ?? name;
  const withFile = <T>(fn: Parameters<typeof withWeights<T>>[2]) => withWeights(files, SINGLE_FILE_CHECKPOINT, fn);
  return {
    family,
    forceZerosForEmptyPrompt: forceZerosForEmptyPrompt(family, undefined), // SDXL base's model_index.json: true
    tokenizers,
    textEncoderSlots,
    schedulerConfig: c.scheduler,
    textEncoderConfigs,
    unetConfig,
    vaeConfig,
    loadTextEncoder: (ctx, slot, o) => withFile((f) => loadTextEncoder(ctx, mappedTensorSource(f, componentMappings(f, plan, slot)), slotConfig(label, textEncoderConfigs, slot), o)),
    loadUNet: (ctx, o) => withFile((f) => loadUNet(ctx, f, unetConfig, { ...o, fileName: inFile })),
    loadVae: (ctx, o) => withFile((f) => loadVae(ctx, f, vaeConfig, { ...o, mappings: componentMappings(f, plan, 'vae') })),
  };
}
