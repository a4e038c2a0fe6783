/** A model folder on disk (Node: tests, the golden CLI). Not for the browser bundle (node:fs). */
import { access, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelFileError } from './errors';
import { SINGLE_FILE_CHECKPOINT, type ModelFiles } from './model-files';
import { NodeFileSource } from './safetensors/node-source';
import type { ByteSource } from './safetensors/source';

export class NodeModelFiles implements ModelFiles {
  constructor(readonly dir: string, readonly label = dir) {}

  async exists(path: string): Promise<boolean> {
    try {
      await access(join(this.dir, path));
      return true;
    } catch {
      return false;
    }
  }

  source(path: string): Promise<ByteSource> {
    return NodeFileSource.open(join(this.dir, path), `${this.label}/${path}`);
  }

  async text(path: string): Promise<string> {
    try {
      return await readFile(join(this.dir, path), 'utf8');
    } catch (err) {
      throw new ModelFileError('missing-file', `${this.label}/${path}`, `cannot read it (${(err as Error).message})`);
    }
  }
}

/**
 * A single-file checkpoint on disk as the loaders' ModelFiles: SINGLE_FILE_CHECKPOINT is the file
 * itself, and every other path (the tokenizers' vocab.json and merges.txt, which a checkpoint does not
 * carry) is looked up in the folder beside it: `<dir>/tokenizer/vocab.json` for `tiny.safetensors` in
 * `<dir>`. A missing one is a `missing-file` error that says where it was expected.
 */
export class NodeSingleFileModelFiles implements ModelFiles {
  private readonly beside: NodeModelFiles;

  constructor(readonly file: string, readonly label = basename(file)) {
    this.beside = new NodeModelFiles(dirname(file), dirname(file));
  }

  exists(path: string): Promise<boolean> {
    return path === SINGLE_FILE_CHECKPOINT ? this.beside.exists(basename(this.file)) : this.beside.exists(path);
  }

  source(path: string): Promise<ByteSource> {
    if (path === SINGLE_FILE_CHECKPOINT) return NodeFileSource.open(this.file, this.label);
    return this.beside.source(path);
  }

  async text(path: string): Promise<string> {
    if (await this.beside.exists(path)) return this.beside.text(path);
    throw new ModelFileError('missing-file', join(dirname(this.file), path), `${this.label} is a single-file checkpoint, which carries no ${path}; put the model's ${path.split('/')[0]} folder beside it`);
  }
}
