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
