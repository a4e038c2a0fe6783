import { describe, expect, it } from 'vitest';
import { DeviceErrorWatch, deviceErrorKind, namedDeviceError } from './device-errors';
import { GpuOutOfMemoryError, GpuValidationError } from './errors';

// Stand-ins named like the WebGPU error classes (classified by name: not every runtime has the globals).
class GPUOutOfMemoryError extends Error {}
class GPUValidationError extends Error {}
class GPUInternalError extends Error {}

/** An EventTarget that plays a device's 'uncapturederror' events. */
function fakeDevice(): GPUDevice & { report(error: Error): void } {
  const target = new EventTarget();
  return Object.assign(target, {
    report(error: Error) {
      target.dispatchEvent(Object.assign(new Event('uncapturederror'), { error }));
    },
  }) as unknown as GPUDevice & { report(error: Error): void };
}

describe('device errors outside error scopes', () => {
  it('classifies the three WebGPU error classes', () => {
    expect(deviceErrorKind(new GPUOutOfMemoryError('x'))).toBe('out-of-memory');
    expect(deviceErrorKind(new GPUValidationError('x'))).toBe('validation');
    expect(deviceErrorKind(new GPUInternalError('x'))).toBe('internal');
    expect(deviceErrorKind(null)).toBe('validation');
  });

  it('keeps the first error, counts the rest, and clears on take', () => {
    const device = fakeDevice();
    const watch = new DeviceErrorWatch(device);
    expect(watch.take()).toBeNull();
    device.report(new GPUOutOfMemoryError('buffer of 2 GiB'));
    device.report(new GPUValidationError('invalid buffer used in a bind group'));
    device.report(new GPUValidationError('invalid command buffer'));
    const r = watch.take();
    expect(r).toEqual({ kind: 'out-of-memory', message: 'buffer of 2 GiB', more: 2 });
    expect(watch.take()).toBeNull();
    const named = namedDeviceError(r!, 'the VAE decode');
    expect(named).toBeInstanceOf(GpuOutOfMemoryError);
    expect(named.message).toMatch(/ran out of memory in the VAE decode \(buffer of 2 GiB; 2 more errors followed\)\. Try a smaller image size/);
  });

  it('names validation and internal errors as validation errors that say which', () => {
    const v = namedDeviceError({ kind: 'validation', message: 'bad binding', more: 0 }, 'a step');
    expect(v).toBeInstanceOf(GpuValidationError);
    expect(v.message).toBe('WebGPU validation error in a step: bad binding');
    expect(namedDeviceError({ kind: 'internal', message: 'lost allocation', more: 1 }, 'a step').message).toBe(
      'WebGPU validation error in a step: internal error: lost allocation; 1 more error followed',
    );
  });

  it('ignores a device without events (the planning device)', () => {
    const watch = new DeviceErrorWatch({} as GPUDevice);
    expect(watch.take()).toBeNull();
  });
});
