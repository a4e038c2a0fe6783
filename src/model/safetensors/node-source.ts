/**
 * A Node.js file source (tests, bench and CLI tools). Not re-exported from ./index.ts: it imports
 * node:fs, which a browser bundle must not pull in.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { ModelFileError } from '../errors';
import { checkRange, type ByteSource } from './source';

export class NodeFileSource implements ByteSource {
  readonly seekable = true;
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    readonly name: string,
  ) {}

  /** Opens `path` read-only; `name` (default: the file's base name) is what messages show. */
  static async open(path: string, name = basename(path)): Promise<NodeFileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new ModelFileError('io', name, `cannot open ${path} (${(err as Error).message})`);
    }
    const { size } = await handle.stat();
    return new NodeFileSource(handle, size, name);
  }

  async read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    checkRange(this, offset, length);
    if (this.closed) throw new ModelFileError('io', this.name, 'the file was closed');
    // A plain Uint8Array (not a pooled Buffer) so the result starts at byteOffset 0 and typed-array views align.
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new ModelFileError('truncated', this.name, `the file ended at byte ${offset + done}, before ${offset + length}`);
      }
      done += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}
