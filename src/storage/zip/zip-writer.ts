/**
 * A minimal ZIP writer (PKWARE APPNOTE 6.3.x): every file is "stored" (method 0, no compression: the
 * gallery zips PNGs, which are already deflated), with its CRC-32, a local header before its bytes, a
 * central directory after them and the end record. Names are UTF-8 (general-purpose flag bit 11) so a
 * prompt's non-ASCII words survive. No ZIP64: past 65,535 files or 4 GiB the writer refuses plainly.
 */
import { crc32 } from '../png/crc32';
import { concatBytes } from '../concat-bytes';

export interface ZipFile {
  name: string;
  data: Uint8Array;
  /** The file's time in the archive (local time, 2-second steps, as DOS stores it); default: now. */
  modified?: Date;
}

export class ZipTooLargeError extends Error {
  override readonly name = 'ZipTooLargeError';
  readonly code = 'zip-too-large';
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_RECORD = 0x06054b50;
/** Version 2.0: what every unzip tool reads; stored entries need nothing newer. */
const VERSION = 20;
const UTF8_NAMES = 0x0800;
const MAX_U32 = 0xffffffff;
const MAX_ENTRIES = 0xffff;
/** st_mode of a regular file readable by all, writable by its owner (0o100644). */
const REGULAR_FILE_644 = 0o100644;

/** DOS date and time (what ZIP headers store); years before 1980 cannot be written and become 1980. */
export function dosDateTime(d: Date): { date: number; time: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
  };
}

/**
 * Names made unique within one archive (case-insensitively, since Windows and macOS unpack "A.png"
 * and "a.png" onto the same file): a repeat gets "-2", "-3", … before its extension. Slashes become
 * dashes so a name never makes a folder or climbs out of one.
 */
export function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((raw) => {
    const name = raw.replace(/[\\/]+/g, '-') || 'file';
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}

/**
 * The archive as parts in file order (headers, then each file's own bytes, not copied), ready for
 * `new Blob(parts)`; `zipBytes` joins them. Names are used as given: pass them through `uniqueNames`.
 */
export function zipParts(files: readonly ZipFile[]): Uint8Array[] {
  if (files.length > MAX_ENTRIES) throw new ZipTooLargeError(`A zip can hold at most ${MAX_ENTRIES} files here; ${files.length} were asked for.`);
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = encoder.encode(f.name);
    const crc = crc32(f.data);
    const { date, time } = dosDateTime(f.modified ?? new Date());
    if (f.data.length > MAX_U32 || offset > MAX_U32) throw new ZipTooLargeError('The zip would be larger than 4 GiB. Select fewer images and download them in parts.');

    const local = new Uint8Array(30 + name.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, LOCAL_HEADER, true);
    l.setUint16(4, VERSION, true);
    l.setUint16(6, UTF8_NAMES, true);
    l.setUint16(8, 0, true); // method: stored
    l.setUint16(10, time, true);
    l.setUint16(12, date, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, f.data.length, true); // compressed size = size (stored)
    l.setUint32(22, f.data.length, true);
    l.setUint16(26, name.length, true);
    l.setUint16(28, 0, true); // no extra field
    local.set(name, 30);

    const entry = new Uint8Array(46 + name.length);
    const c = new DataView(entry.buffer);
    c.setUint32(0, CENTRAL_HEADER, true);
    // made by Unix (3), so unzip tools trust the UTF-8 flag (Info-ZIP re-encodes names "made by" FAT)
    // and take the permissions from the external attributes: a regular file, rw-r--r--
    c.setUint16(4, (3 << 8) | VERSION, true);
    c.setUint16(6, VERSION, true);
    c.setUint16(8, UTF8_NAMES, true);
    c.setUint16(10, 0, true);
    c.setUint16(12, time, true);
    c.setUint16(14, date, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, f.data.length, true);
    c.setUint32(24, f.data.length, true);
    c.setUint16(28, name.length, true);
    // extra field, comment, disk number and internal attributes: zero
    c.setUint32(38, REGULAR_FILE_644 << 16 >>> 0, true);
    c.setUint32(42, offset, true);
    entry.set(name, 46);

    parts.push(local, f.data);
    central.push(entry);
    offset += local.length + f.data.length;
  }
  const centralSize = central.reduce((n, e) => n + e.length, 0);
  if (offset > MAX_U32 || offset + centralSize > MAX_U32) throw new ZipTooLargeError('The zip would be larger than 4 GiB. Select fewer images and download them in parts.');

  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, END_RECORD, true);
  // this disk and the central directory's disk: 0 (one file, not split)
  e.setUint16(8, files.length, true);
  e.setUint16(10, files.length, true);
  e.setUint32(12, centralSize, true);
  e.setUint32(16, offset, true);
  // no archive comment
  return [...parts, ...central, end];
}

/** The whole archive in one array (tests, small archives). */
export function zipBytes(files: readonly ZipFile[]): Uint8Array {
  return concatBytes(zipParts(files));
}
