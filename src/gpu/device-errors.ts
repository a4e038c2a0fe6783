/**
 * Errors the device reports outside any error scope ('uncapturederror'). WebGPU does not throw where an
 * allocation or a command fails: createBuffer returns an invalid buffer, every command that uses it is
 * dropped, and a readback then returns zeros. Without this watch a GPU that ran out of memory half-way
 * through a 1024² image gave the user a flat grey picture and no word of why. GpuContext checks the
 * watch after every submission it waits for (flush, read) and turns the first error into a named one
 * (errors.ts) that says where it surfaced and what to do.
 */
import { GpuOutOfMemoryError, GpuValidationError, type GpuError } from './errors';

export type DeviceErrorKind = 'out-of-memory' | 'validation' | 'internal';

export interface DeviceErrorRecord {
  kind: DeviceErrorKind;
  message: string;
}

/** GPUOutOfMemoryError / GPUValidationError / GPUInternalError, by class name (no global classes in every runtime). */
export function deviceErrorKind(error: unknown): DeviceErrorKind {
  const name = (error as { constructor?: { name?: string } } | null)?.constructor?.name ?? '';
  if (/OutOfMemory/i.test(name)) return 'out-of-memory';
  if (/Internal/i.test(name)) return 'internal';
  return 'validation';
}

export class DeviceErrorWatch {
  private first: DeviceErrorRecord | null = null;
  private more = 0;

  constructor(device: GPUDevice) {
    // The planning device (a stand-in without events) has nothing to report.
    if (typeof device.addEventListener === 'function') {
      device.addEventListener('uncapturederror', (e) => {
        const error = (e as GPUUncapturedErrorEvent).error;
        this.record({ kind: deviceErrorKind(error), message: error?.message ?? String(error) });
      });
    }
  }

  /** Keeps the first error until it is taken (later ones are usually its consequences) and counts the rest. */
  record(r: DeviceErrorRecord): void {
    if (this.first) this.more++;
    else this.first = r;
  }

  /** The first error since the last take, with how many followed it; clears the watch. */
  take(): (DeviceErrorRecord & { more: number }) | null {
    const r = this.first;
    if (!r) return null;
    const more = this.more;
    this.first = null;
    this.more = 0;
    return { ...r, more };
  }
}

/** The named error for a device error that surfaced at `scope`. */
export function namedDeviceError(r: DeviceErrorRecord & { more: number }, scope: string): GpuError {
  const detail = r.more > 0 ? `${r.message}; ${r.more} more error${r.more === 1 ? '' : 's'} followed` : r.message;
  if (r.kind === 'out-of-memory') return new GpuOutOfMemoryError(scope, detail);
  return new GpuValidationError(scope, r.kind === 'internal' ? `internal error: ${detail}` : detail);
}
