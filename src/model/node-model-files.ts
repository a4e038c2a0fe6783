/** A model folder on disk (Node: tests, the golden CLI). Not for the browser bundle (node:fs). */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError } from './errors';
import type { ModelFiles } from './model-files';
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
