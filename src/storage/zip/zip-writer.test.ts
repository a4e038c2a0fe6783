import { describe, expect, it } from 'vitest';
import { dosDateTime, uniqueNames, zipBytes, zipParts, ZipTooLargeError } from './zip-writer';
import { readZip, ZipFormatError } from './zip-reader';

const text = (s: string) => new TextEncoder().encode(s);

describe('zip writer', () => {
  it('stores each file with its CRC-32 (the "123456789" check value 0xCBF43926), names and sizes', () => {
    const when = new Date(2026, 11, 5, 6, 40, 31);
    const zip = zipBytes([
      { name: 'check.txt', data: text('123456789'), modified: when },
      { name: 'empty.bin', data: new Uint8Array(0), modified: when },
      { name: 'bytes.png', data: Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff), modified: when },
    ]);
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['check.txt', 'empty.bin', 'bytes.png']);
    expect(entries[0]!.crc).toBe(0xcbf43926);
    expect(entries[1]!.crc).toBe(0);
    expect(entries.map((e) => e.data.length)).toEqual([9, 0, 300]);
    expect(new TextDecoder().decode(entries[0]!.data)).toBe('123456789');
    expect(Array.from(entries[2]!.data.subarray(0, 4))).toEqual([0, 7, 14, 21]);

    // the layout byte for byte: local header (30 + name) then the bytes, the next header right after
    expect(entries.map((e) => e.offset)).toEqual([0, 30 + 9 + 9, 30 + 9 + 9 + 30 + 9]);
    const v = new DataView(zip.buffer);
    expect(v.getUint32(0, true)).toBe(0x04034b50);
    expect(v.getUint16(8, true)).toBe(0); // stored
    expect(v.getUint16(10, true)).toBe(dosDateTime(when).time);
    // the end record: 3 entries, the central directory right after the last file
    const end = zip.length - 22;
    expect(v.getUint32(end, true)).toBe(0x06054b50);
    expect(v.getUint16(end + 10, true)).toBe(3);
    expect(v.getUint32(end + 16, true)).toBe(30 * 3 + 9 * 3 + 9 + 0 + 300);
    expect(v.getUint32(end + 12, true)).toBe(46 * 3 + 9 * 3);
  });

  it('marks names as UTF-8 so a prompt in any script survives', () => {
    const [e] = readZip(zipBytes([{ name: 'café-東京-🚀.png', data: text('x') }]));
    expect(e!.name).toBe('café-東京-🚀.png');
    expect(e!.flags & 0x0800).toBe(0x0800);
  });

  it('central entries say "made by Unix" with rw-r--r-- regular files, so unzip keeps UTF-8 names and readable files', () => {
    const zip = zipBytes([{ name: 'a.png', data: text('x') }]);
    const v = new DataView(zip.buffer);
    const central = v.getUint32(zip.length - 22 + 16, true);
    expect(v.getUint32(central, true)).toBe(0x02014b50);
    expect(v.getUint8(central + 5)).toBe(3);
    expect(v.getUint32(central + 38, true) >>> 16).toBe(0o100644);
  });

  it('writes an empty archive as the end record alone', () => {
    const zip = zipBytes([]);
    expect(zip.length).toBe(22);
    expect(readZip(zip)).toEqual([]);
  });

  it('parts reference the files’ own bytes (no copy of a large PNG)', () => {
    const data = text('abc');
    const parts = zipParts([{ name: 'a', data }]);
    expect(parts[1]).toBe(data);
  });

  it('a corrupted byte is caught by the CRC-32', () => {
    const zip = zipBytes([{ name: 'a.txt', data: text('hello') }]);
    zip[30 + 5] = zip[30 + 5]! ^ 1; // first byte of the data
    expect(() => readZip(zip)).toThrow(ZipFormatError);
    expect(() => readZip(zip.subarray(0, zip.length - 1))).toThrow(/end-of-central-directory/);
  });

  it('DOS time: 2-second steps; years before 1980 become 1980', () => {
    expect(dosDateTime(new Date(2026, 0, 31, 23, 59, 59))).toEqual({ date: (46 << 9) | (1 << 5) | 31, time: (23 << 11) | (59 << 5) | 29 });
    expect(dosDateTime(new Date(1970, 0, 1)).date >> 9).toBe(0);
  });

  it('refuses more files than a zip without ZIP64 holds, by name', () => {
    const many = Array.from({ length: 0x10000 }, (_, i) => ({ name: String(i), data: new Uint8Array(0) }));
    expect(() => zipParts(many)).toThrow(ZipTooLargeError);
  });
});

describe('uniqueNames', () => {
  it('numbers repeats before the extension, case-insensitively, never reusing a name already taken', () => {
    expect(uniqueNames(['fox-1.png', 'fox-1.png', 'FOX-1.png', 'fox-1-2.png', 'cat'])).toEqual(['fox-1.png', 'fox-1-2.png', 'FOX-1-3.png', 'fox-1-2-2.png', 'cat']);
  });
  it('turns slashes into dashes so a name cannot make or leave a folder', () => {
    expect(uniqueNames(['../a/b.png', '', '\\x.png'])).toEqual(['..-a-b.png', 'file', '-x.png']);
  });
});
