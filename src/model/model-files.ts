/**
 * A model as a set of files by diffusers-relative path ('unet/config.json',
 * 'text_encoder/model.safetensors', …), wherever they are stored: the OPFS model store in the studio,
 * a directory in Node (tests, CLI). The loaders only see this interface.
 */
import { ModelFileError } from './errors';
import { openOpfsPath, type ByteSource } from './safetensors/source';

/** The OPFS folder that holds one sub-folder per imported model (src/storage/models writes it). */
export const MODEL_STORE_DIR = 'models';

/**
 * The path of a single-file checkpoint within its model's files (whatever the file was called): a model
 * with this file and no model_index.json is a single-file model (src/engine/single-file-source.ts).
 */
export const SINGLE_FILE_CHECKPOINT = 'checkpoint.safetensors';

export interface ModelFiles {
  /** For messages: the model's name or folder. */
  readonly label: string;
  exists(path: string): Promise<boolean>;
  source(path: string): Promise<ByteSource>;
  text(path: string): Promise<string>;
}

/** Parses a JSON file of a model, with a named error that says which file is broken. */
export async function readJson<T>(files: ModelFiles, path: string): Promise<T> {
  const text = await files.text(path);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ModelFileError('bad-config', `${files.label}/${path}`, `not valid JSON (${(err as Error).message})`);
  }
}

/** The first of `paths` that exists (e.g. the fp16 variant before the full-precision file). */
export async function firstExisting(files: ModelFiles, paths: readonly string[]): Promise<string> {
  for (const p of paths) if (await files.exists(p)) return p;
  throw new ModelFileError('missing-file', `${files.label}/${paths[0]}`, `the model has none of ${paths.join(', ')}`);
}

/** A model in the OPFS store: models/<id>/<path>. Works in a window and in a worker. */
export class OpfsModelFiles implements ModelFiles {
  constructor(readonly id: string) {}

  get label(): string {
    return this.id;
  }

  private parts(path: string): string[] {
    return [MODEL_STORE_DIR, this.id, ...path.split('/')];
  }

  private async file(path: string): Promise<File> {
    let dir = await navigator.storage.getDirectory();
    const parts = this.parts(path);
    for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p);
    return (await dir.getFileHandle(parts[parts.length - 1]!)).getFile();
  }

  async exists(path: string): Promise<boolean> {
    try {
      await this.file(path);
      return true;
    } catch {
      return false;
    }
  }

  source(path: string): Promise<ByteSource> {
    return openOpfsPath(this.parts(path));
  }

  async text(path: string): Promise<string> {
    try {
      return await (await this.file(path)).text();
    } catch (err) {
      throw new ModelFileError('missing-file', `${this.id}/${path}`, `the stored file could not be read (${(err as Error).message})`);
    }
  }
}
