import { describe, expect, it } from 'vitest';
import { serializeError } from '../gpu/errors';
import { formatSize } from './bytes';
import { isAbort, isQuotaExceeded, StorageQuotaError } from './errors';

describe('StorageQuotaError', () => {
  it('states the space needed and available, and crosses the worker boundary by code', () => {
    const e = new StorageQuotaError(31_000_000, 4_000_000);
    expect(e.message).toBe(
      'Not enough storage space: this import needs 29.6 MiB more, but only 3.8 MiB is available to the studio. Free space on this disk or delete a model you no longer use, then try again.',
    );
    expect(serializeError(e)).toEqual({ name: 'StorageQuotaError', code: 'storage-quota', message: e.message });
  });
  it('for a refused write names the file and does not claim the reported space is short', () => {
    const e = new StorageQuotaError(3 << 20, 10 * 2 ** 30, 'unet/x.safetensors');
    expect(e.message).toMatch(/needs 3 MiB more and the browser refused to write unet\/x\.safetensors \(the browser reported 10 GiB free, but the disk or this site's quota is full\)/);
  });
  it('recognises QuotaExceededError and aborts', () => {
    expect(isQuotaExceeded(new DOMException('x', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaExceeded({ code: 22 })).toBe(true);
    expect(isQuotaExceeded(new Error('x'))).toBe(false);
    expect(isAbort(new DOMException('x', 'AbortError'))).toBe(true);
    expect(isAbort(new TypeError('network'))).toBe(false);
  });
  it('formats sizes in binary units', () => {
    expect([0, 1023, 1024, 1536, 31_000_000, 7 * 2 ** 30].map(formatSize)).toEqual(['0 bytes', '1023 bytes', '1 KiB', '1.5 KiB', '29.6 MiB', '7 GiB']);
  });
});
