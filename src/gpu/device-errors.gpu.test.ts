// A device error outside any error scope (an invalid buffer, running out of memory) surfaces as a named
// error at the next flush or read, instead of a readback of zeros (device-errors.ts, context.ts).
import { describe, expect, it } from 'vitest';
import { testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { GpuOutOfMemoryError, GpuValidationError } from './errors';
import { scale } from '../ops/elementwise';

describe(`device errors on ${TEST_ADAPTER}`, () => {
  it('a real uncaptured validation error is thrown, named, at the next read; the read after it works', async () => {
    const ctx = await testContext();
    const x = ctx.upload([1, 2, 3], [3], 'f32', 'x');
    // MAP_READ cannot be combined with STORAGE: the device reports it, nothing throws here
    ctx.device.createBuffer({ label: 'invalid-usage', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    await expect(ctx.read(x)).rejects.toThrow(GpuValidationError);
    expect(Array.from(await ctx.read(x))).toEqual([1, 2, 3]);
    ctx.release(x);
  });

  it('out of memory: a named error at flush, the pool trimmed, and the next run allocates afresh', async () => {
    const ctx = await testContext();
    const x = ctx.upload([1, 2, 3, 4], [4], 'f32', 'x');
    const y = await scale(ctx, x, 2);
    ctx.release(y);
    expect(ctx.pool.stats.buffers).toBeGreaterThan(1);
    // what the device reports when a buffer cannot be allocated (not provokable on a CPU adapter)
    ctx.deviceErrors.record({ kind: 'out-of-memory', message: 'injected' });
    const err = await ctx.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuOutOfMemoryError);
    expect((err as Error).message).toMatch(/ran out of memory in the GPU work just submitted \(injected\)/);
    // the idle buffer (y's) is gone; x, still held, is not
    expect(ctx.pool.stats.buffers).toBe(1);
    const z = await scale(ctx, x, 3);
    expect(Array.from(await ctx.read(z))).toEqual([3, 6, 9, 12]);
    ctx.release(x, z);
  });
});
