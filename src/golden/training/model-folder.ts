/**
 * Loads a diffusers model folder's UNet and text encoders (whichever of text_encoder, text_encoder_2
 * it has, in that order) onto the GPU for the training goldens, in Node.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GpuContext } from '../../gpu/context';
import type { DType } from '../../gpu/tensor';
import { parseTextEncoderConfig } from '../../model/text-encoder/config';
import { destroyTextEncoder, loadTextEncoder, type LoadedTextEncoder } from '../../model/text-encoder/load';
import type { UNetConfigJson } from '../../model/unet/arch';
import { destroyUNet, loadUNet, type LoadedUNet } from '../../model/unet/load';
import { openModelFile } from '../case-file';
import { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import type { NoiseScheduleConfig } from '../../cidm/train/noising';

/** The folder's CLIP tokenizers (tokenizer, tokenizer_2, …), the first `count`: one per text encoder, in model order. */
export function loadFolderTokenizers(dir: string, count: number): ClipTokenizer[] {
  return ['tokenizer', 'tokenizer_2'].slice(0, count).map((sub) => {
    const r = (f: string) => readFileSync(join(dir, sub, f), 'utf8');
    return ClipTokenizer.fromFiles(r('vocab.json'), r('merges.txt'), ClipTokenizer.configFromJson(r('tokenizer_config.json')));
  });
}

/** The folder's training noise schedule (scheduler/scheduler_config.json's beta fields, spec §1.6). */
export function loadFolderSchedule(dir: string): NoiseScheduleConfig {
  return JSON.parse(readFileSync(join(dir, 'scheduler/scheduler_config.json'), 'utf8')) as NoiseScheduleConfig;
}

export interface LoadedModelFolder {
  unet: LoadedUNet;
  encoders: LoadedTextEncoder[];
  dtype: DType;
  destroy(): void;
}

export async function loadModelFolder(ctx: GpuContext, dir: string, dtype: DType): Promise<LoadedModelFolder> {
  const unetConfig = JSON.parse(readFileSync(join(dir, 'unet/config.json'), 'utf8')) as UNetConfigJson;
  const unetFile = await openModelFile(dir, 'unet/diffusion_pytorch_model.safetensors');
  let unet: LoadedUNet;
  try {
    unet = await loadUNet(ctx, unetFile, unetConfig, { dtype });
  } finally {
    await unetFile.close();
  }
  const encoders: LoadedTextEncoder[] = [];
  for (const sub of ['text_encoder', 'text_encoder_2']) {
    if (!existsSync(join(dir, sub, 'config.json'))) continue;
    const cfgPath = join(dir, sub, 'config.json');
    const config = parseTextEncoderConfig(JSON.parse(readFileSync(cfgPath, 'utf8')), { file: cfgPath });
    const file = await openModelFile(dir, `${sub}/model.safetensors`);
    try {
      encoders.push(await loadTextEncoder(ctx, file, config, { dtype }));
    } finally {
      await file.close();
    }
  }
  return {
    unet,
    encoders,
    dtype,
    destroy() {
      destroyUNet(ctx, unet);
      for (const te of encoders) destroyTextEncoder(ctx, te);
    },
  };
}
