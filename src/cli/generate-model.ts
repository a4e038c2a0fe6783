/**
 * The `--model` of `npm run generate`: a diffusers folder on disk becomes the ModelFiles the engine's
 * loader reads (the same loader the studio runs on its OPFS store). A single-file checkpoint is
 * recognised and refused by name: the engine's loader (src/engine/sdxl-model.ts) builds a pipeline
 * only from a diffusers layout so far, and nothing here pretends otherwise.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseVaeConfig } from '../model/config';
import { ModelFileError } from '../model/errors';
import { readJson, type ModelFiles } from '../model/model-files';
import { NodeModelFiles } from '../model/node-model-files';
import { NodeFileSource } from '../model/safetensors/node-source';
import { SafetensorsFile } from '../model/safetensors/reader';
import { detectSingleFileKind, type SingleFileKind } from '../model/weights/single-file';
import { GenerateArgsError, vaeScaleFactor } from './generate-args';

export class SingleFileNotSupportedError extends Error {
  override readonly name = 'SingleFileNotSupportedError';
  readonly code = 'single-file-unsupported';
  constructor(
    readonly file: string,
    readonly kind: SingleFileKind,
  ) {
    super(
      `${file} is a single-file ${kind === 'sdxl' ? 'SDXL' : 'SD-1.5'} checkpoint, and the engine cannot yet run a whole pipeline ` +
        '(text encoders, tokenizers, UNet, VAE) from a single file. Give --model a diffusers folder (model_index.json, unet/, vae/, text_encoder/, …).',
    );
  }
}

export interface ModelFolder {
  files: ModelFiles;
  /** The folder's name (what the studio's folder import calls a model). */
  name: string;
  /** Pixels per latent cell, from vae/config.json. */
  vaeFactor: number;
  /** Where vaeFactor came from, for messages. */
  vaeConfigFile: string;
}

async function refuseSingleFile(path: string): Promise<never> {
  const source = await NodeFileSource.open(path, path);
  try {
    // a file that is no checkpoint (a LoRA, a bare UNet) is a ModelFileError 'wrong-model' from detect
    throw new SingleFileNotSupportedError(path, detectSingleFileKind(await SafetensorsFile.open(source)));
  } finally {
    await source.close();
  }
}

/** Opens `path` as a diffusers folder, with its VAE factor read before any weights. */
export async function openModelFolder(path: string): Promise<ModelFolder> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new GenerateArgsError(`--model ${path}: no such folder or file.`);
  if (info.isFile()) {
    if (/\.safetensors$/i.test(path)) return refuseSingleFile(path);
    throw new GenerateArgsError(`--model ${path}: give a diffusers folder (with model_index.json).`);
  }
  const name = basename(resolve(path));
  const files = new NodeModelFiles(path, path);
  if (!(await files.exists('model_index.json'))) {
    throw new ModelFileError('missing-file', `${path}/model_index.json`, 'the folder is not a diffusers model (no model_index.json)');
  }
  const vaeConfigFile = `${path}/vae/config.json`;
  const vae = parseVaeConfig(await readJson(files, 'vae/config.json'), vaeConfigFile);
  return { files, name, vaeFactor: vaeScaleFactor(vae), vaeConfigFile };
}
