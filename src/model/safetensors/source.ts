/**
 * Byte sources: random-access reads of a model file without holding the whole file in memory (an SDXL
 * checkpoint is ~7 GB, far over what one ArrayBuffer may hold in a browser). The reader asks for the
 * header and then for one tensor (or one bounded chunk) at a time, in ascending offsets, so a source
 * that can only stream forwards (an HTTP body without Range support) works too.
 */
import { ModelFileError } from '../errors';

export interface ByteSource {
  /** A name for messages: the file name or URL. */
  readonly name: string;
  /** Total bytes; Infinity for a stream whose length is not known. */
  readonly size: number;
  /** True when reads may go backwards (Blob, Range requests, files); false for a forward-only stream. */
  readonly seekable: boolean;
  /**
   * Exactly `length` bytes from `offset`, in a fresh buffer (byteOffset 0), or a `truncated`
   * ModelFileError when the file ends first.
   */
  read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
  /** Releases a file handle or an open HTTP body; reading afterwards is an error. */
  close?(): Promise<void>;
}

/** Checks a read request against the source's size; every implementation calls it first. */
export function checkRange(src: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`${src.name}: bad read of ${length} bytes at ${offset}`);
  }
  if (offset + length > src.size) {
    throw new ModelFileError(
      'truncated',
      src.name,
      `a read of ${length} bytes at offset ${offset} runs past the end of the ${src.size}-byte file`,
    );
  }
}

/** A Blob or File (a user-picked file, an OPFS file, a fetched Blob). Blob.slice does not copy. */
export class BlobSource implements ByteSource {
  readonly size: number;
  readonly seekable = true;
  readonly name: string;
  constructor(
    private readonly blob: Blob,
    name?: string,
  ) {
    this.size = blob.size;
    this.name = name ?? (typeof File !== 'undefined' && blob instanceof File ? blob.name : 'blob');
  }
  async read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    checkRange(this, offset, length);
    try {
      return new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
    } catch (err) {
      // A File whose underlying file changed or vanished fails here (NotReadableError).
      throw new ModelFileError('io', this.name, `reading ${length} bytes at ${offset} failed (${(err as Error).message})`);
    }
  }
}

/** Bytes already in memory (small files: LoRAs kept in IndexedDB, test fixtures). */
export class MemorySource implements ByteSource {
  readonly seekable = true;
  readonly size: number;
  constructor(
    private readonly bytes: Uint8Array,
    readonly name = 'memory',
  ) {
    this.size = bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    checkRange(this, offset, length);
    return this.bytes.slice(offset, offset + length);
  }
}

/** The subset of FileSystemFileHandle that an OPFS source needs (kept small so tests can fake it). */
export interface FileHandleLike {
  readonly name: string;
  getFile(): Promise<Blob>;
}

/**
 * An OPFS (origin private file system) file. getFile() returns a File snapshot backed by the disk;
 * reading it through Blob.slice keeps memory bounded.
 */
export async function opfsSource(handle: FileHandleLike, name = handle.name): Promise<ByteSource> {
  let file: Blob;
  try {
    file = await handle.getFile();
  } catch (err) {
    throw new ModelFileError('io', name, `opening the stored file failed (${(err as Error).message})`);
  }
  return new BlobSource(file, name);
}

/** Opens `dir/…/file` under the OPFS root (navigator.storage.getDirectory()), e.g. ['models', 'sdxl', 'unet.safetensors']. */
export async function openOpfsPath(path: readonly string[]): Promise<ByteSource> {
  const joined = path.join('/');
  if (path.length === 0) throw new ModelFileError('io', joined, 'empty OPFS path');
  try {
    let dir = await navigator.storage.getDirectory();
    for (const part of path.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
    const handle = await dir.getFileHandle(path[path.length - 1]!);
    return await opfsSource(handle, joined);
  } catch (err) {
    if (err instanceof ModelFileError) throw err;
    throw new ModelFileError('io', joined, `the stored file could not be opened (${(err as Error).message})`);
  }
}

/**
 * Coalesces small reads: a read shorter than `blockBytes` fetches the block starting at it and serves
 * the following small reads from it. Meant for HTTP Range sources, where an SDXL UNet read tensor by
 * tensor would otherwise cost ~1700 requests, most for a few KB of norm weights. Memory: one block.
 */
export function withReadAhead(src: ByteSource, blockBytes = 4 << 20): ByteSource {
  let blockStart = 0;
  let block: Promise<Uint8Array<ArrayBuffer>> | undefined;
  let blockLen = 0;
  return {
    name: src.name,
    size: src.size,
    seekable: src.seekable,
    close: src.close ? () => src.close!() : undefined,
    async read(offset, length) {
      checkRange(src, offset, length);
      if (length >= blockBytes) return src.read(offset, length);
      if (!block || offset < blockStart || offset + length > blockStart + blockLen) {
        blockStart = offset;
        blockLen = Math.min(blockBytes, src.size - offset);
        const b = src.read(offset, blockLen);
        block = b;
        b.catch(() => {
          if (block === b) block = undefined; // a failed block is fetched again by the next read
        });
      }
      const start = blockStart;
      return (await block).slice(offset - start, offset - start + length);
    },
  };
}
