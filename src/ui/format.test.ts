import { describe, expect, it } from 'vitest';
import { adapterTitle, formatBytes, formatCount, formatLimit } from './format';

describe('formatBytes', () => {
  it('uses binary units and drops trailing zeros', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(32768)).toBe('32 KiB');
    expect(formatBytes(128 * 2 ** 20)).toBe('128 MiB');
    expect(formatBytes(2 ** 30)).toBe('1 GiB');
    expect(formatBytes(2 ** 32 - 1)).toBe('4 GiB');
    expect(formatBytes(1000 * 2 ** 20)).toBe('1000 MiB');
  });
  it('passes odd input through', () => {
    expect(formatBytes(Number.NaN)).toBe('NaN');
    expect(formatBytes(-1)).toBe('-1');
  });
});

describe('formatCount', () => {
  it('groups thousands without the locale', () => {
    expect(formatCount(256)).toBe('256');
    expect(formatCount(65535)).toBe('65,535');
    expect(formatCount(4294967295)).toBe('4,294,967,295');
    expect(formatCount(-1234.5)).toBe('-1,234.5');
  });
});

describe('formatLimit', () => {
  it('picks the unit and shows a dash for a missing limit', () => {
    expect(formatLimit(16384, 'bytes')).toBe('16 KiB');
    expect(formatLimit(65535, 'count')).toBe('65,535');
    expect(formatLimit(undefined, 'count')).toBe('—');
  });
});

describe('adapterTitle', () => {
  it('names the CPU adapters and prettifies architectures', () => {
    expect(adapterTitle({ vendor: 'google', architecture: 'swiftshader', description: '' })).toBe('SwiftShader');
    expect(adapterTitle({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe (LLVM 15)' })).toBe('llvmpipe');
    expect(adapterTitle({ vendor: 'nvidia', architecture: 'ada-lovelace', description: '' })).toBe('Ada Lovelace');
    expect(adapterTitle({ vendor: 'apple', architecture: '', description: 'Apple M3' })).toBe('Apple M3');
    expect(adapterTitle({ vendor: 'intel', architecture: '', description: '' })).toBe('Intel GPU');
    expect(adapterTitle({ vendor: '', architecture: '', description: '' })).toBe('Unnamed GPU');
  });
});
