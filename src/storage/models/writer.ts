/**
 * Appending to a `.partial` file so that what was written survives a closed tab. In a dedicated
 * worker a FileSystemSyncAccessHandle writes in place (flushed every few MiB), so a resumed import
 * continues from the bytes on disk. Elsewhere (the window) only createWritable exists, which writes to
 * a swap file committed by close(); `keepExistingData` copies the old bytes into that swap file once
 * per open, and a tab closed before close() loses that session's bytes of the current file
 * (https://fs.spec.whatwg.org/#api-filesystemfilehandle-createwritable).
 */

export interface PartialWriter {
  /** Bytes in the file (where the next write goes). */
  readonly size: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Cuts the file to `n` bytes (a restart after the server ignored Range). */
  truncate(n: number): Promise<void>;
  /** Makes the bytes so far durable and releases the file. */
  close(): Promise<void>;
}

const FLUSH_EVERY = 8 << 20;

interface SyncHandleFactory {
  createSyncAccessHandle?(): Promise<FileSystemSyncAccessHandle>;
}

export async function openPartialWriter(handle: FileSystemFileHandle): Promise<PartialWriter> {
  if (typeof (handle as SyncHandleFactory).createSyncAccessHandle === 'function') return syncWriter(await handle.createSyncAccessHandle());
  return streamWriter(handle);
}

function syncWriter(h: FileSystemSyncAccessHandle): PartialWriter {
  let size = h.getSize();
  let unflushed = 0;
  let open = true;
  return {
    get size() {
      return size;
    },
    async write(chunk) {
      let off = 0;
      while (off < chunk.byteLength) {
        const want = chunk.byteLength - off;
        const n = h.write(chunk.subarray(off), { at: size });
        if (!(n > 0 && n <= want)) {
          // Chromium answers a write past the quota with a bogus count (2^32 - 8) instead of throwing
          // QuotaExceededError, having written part of it: cut that part off and report the refusal.
          h.truncate(size);
          throw new DOMException(`the file system refused ${want} bytes at offset ${size} (no space or quota left)`, 'QuotaExceededError');
        }
        off += n;
        size += n;
      }
      unflushed += chunk.byteLength;
      if (unflushed >= FLUSH_EVERY) {
        h.flush();
        unflushed = 0;
      }
    },
    async truncate(n) {
      h.truncate(n);
      size = n;
    },
    async close() {
      if (!open) return;
      open = false;
      try {
        h.flush();
      } finally {
        h.close();
      }
    },
  };
}

async function streamWriter(handle: FileSystemFileHandle): Promise<PartialWriter> {
  let size = (await handle.getFile()).size;
  const w = await handle.createWritable({ keepExistingData: size > 0 });
  await w.seek(size);
  let open = true;
  return {
    get size() {
      return size;
    },
    async write(chunk) {
      await w.write(chunk as Uint8Array<ArrayBuffer>);
      size += chunk.byteLength;
    },
    async truncate(n) {
      await w.truncate(n);
      await w.seek(n);
      size = n;
    },
    async close() {
      if (!open) return;
      open = false;
      await w.close();
    },
  };
}
