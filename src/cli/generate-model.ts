/**
 * The `--model` of `npm run generate`: a diffusers folder or a single-file SDXL checkpoint on disk
 * becomes the ModelFiles the engine's loader reads (the same loader the studio runs on its OPFS store;
 * src/engine/single-file-source.ts for a single file, whose tokenizer folders sit beside it). PyTorch
 * pickles (.ckpt, .pt, …) are refused by name (src/model/pickle.ts).
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseVaeConfig } from '../model/config';
import { ModelFileError } from '../model/errors';
import { readJson, type ModelFiles } from '../model/model-files';
import { NodeModelFiles, NodeSingleFileModelFiles } from '../model/node-model-files';
import { refusePickle } from '../model/pickle';
import { NodeFileSource } from '../model/safetensors/node-source';
import { SafetensorsFile } from '../model/safetensors/reader';
import { inferSingleFileConfigs } from '../model/weights/infer-config';
import { GenerateArgsError, vaeScaleFactor } from './generate-args';

export interface ModelFolder {
  files: ModelFiles;
  /** The folder's name (what the studio's folder import calls a model). */
  name: string;
  /** Pixels per latent cell, from vae/config.json. */
  vaeFactor: number;
  /** Where vaeFactor came from, for messages. */
  vaeConfigFile: string;
}

/** A single-file checkpoint, with its VAE factor from the VAE config read off its tensors. */
async function openSingleFile(path: string): Promise<ModelFolder> {
  const source = await NodeFileSource.open(path, path);
  const file = await SafetensorsFile.open(source);
  try {
    const configs = inferSingleFileConfigs(file);
    const vaeConfigFile = `${path} (VAE config read off its tensors)`;
    if (!configs.vae) throw new ModelFileError('missing-tensor', path, 'the checkpoint has no VAE (first_stage_model.*)');
    const vae = parseVaeConfig(configs.vae, vaeConfigFile);
    return { files: new NodeSingleFileModelFiles(path, path), name: basename(path).replace(/\.safetensors$/i, ''), vaeFactor: vaeScaleFactor(vae), vaeConfigFile };
  } finally {
    await file.close();
  }
}

/** Opens `path` as a diffusers folder or a single-file checkpoint, with its VAE factor read before any weights. */
export async function openModelFolder(path: string): Promise<ModelFolder> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new GenerateArgsError(`--model ${path}: no such folder or file.`);
  if (info.isFile()) {
    refusePickle(path);
    if (/\.safetensors$/i.test(path)) return openSingleFile(path);
    throw new GenerateArgsError(`--model ${path}: give a diffusers folder (with model_index.json) or a single-file .safetensors checkpoint.`);
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
