/**
 * Reads a ZIP of stored (uncompressed) files the way an unzip tool does: the end record, then the
 * central directory, then each local header and its bytes, checking that the two headers agree and
 * that every file's CRC-32 matches. It exists to check zip-writer.ts's output (its unit tests and the
 * gallery e2e read the downloaded archive back with it); compressed entries are refused by name.
 */
import { crc32 } from '../png/crc32';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
  crc: number;
  flags: number;
  /** Where the entry's local header starts. */
  offset: number;
}

export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
  readonly code = 'bad-zip';
}

export function readZip(zip: Uint8Array): ZipEntry[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  // the end record is the last 22 bytes plus a comment of at most 65,535
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (v.getUint32(i, true) === 0x06054b50 && i + 22 + v.getUint16(i + 20, true) === zip.length) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new ZipFormatError('No end-of-central-directory record: not a zip, or cut short.');
  const count = v.getUint16(end + 10, true);
  if (v.getUint16(end + 8, true) !== count) throw new ZipFormatError('The entry counts of the end record disagree.');
  const size = v.getUint32(end + 12, true);
  let p = v.getUint32(end + 16, true);
  if (p + size !== end) throw new ZipFormatError('The central directory does not end where the end record starts.');

  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const entries: ZipEntry[] = [];
  for (let k = 0; k < count; k++) {
    if (v.getUint32(p, true) !== 0x02014b50) throw new ZipFormatError(`Central directory entry ${k} has no signature.`);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    const csize = v.getUint32(p + 20, true);
    const usize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const skip = nameLen + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
    const offset = v.getUint32(p + 42, true);
    const nameBytes = zip.subarray(p + 46, p + 46 + nameLen);
    const name = flags & 0x0800 ? utf8.decode(nameBytes) : String.fromCharCode(...nameBytes);
    if (method !== 0 || csize !== usize) throw new ZipFormatError(`${name} is compressed; only stored entries are read here.`);

    if (v.getUint32(offset, true) !== 0x04034b50) throw new ZipFormatError(`${name}: no local header at offset ${offset}.`);
    const localName = zip.subarray(offset + 30, offset + 30 + v.getUint16(offset + 26, true));
    const same = v.getUint16(offset + 6, true) === flags && v.getUint32(offset + 14, true) === crc && v.getUint32(offset + 18, true) === csize && v.getUint32(offset + 22, true) === usize && localName.length === nameLen && localName.every((b, i) => b === nameBytes[i]);
    if (!same) throw new ZipFormatError(`${name}: the local header disagrees with the central directory.`);
    const start = offset + 30 + nameLen + v.getUint16(offset + 28, true);
    const data = zip.subarray(start, start + usize);
    if (data.length !== usize) throw new ZipFormatError(`${name} is cut short.`);
    if (crc32(data) !== crc) throw new ZipFormatError(`${name}: CRC-32 mismatch.`);
    entries.push({ name, data, crc, flags, offset });
    p += 46 + skip;
  }
  return entries;
}
