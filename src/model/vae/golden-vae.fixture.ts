/**
 * Test fixture (Node only, the VAE GPU tests): the golden tiny VAE's config, loading it (or its legacy-named
 * copy) at the adapter's storage dtype, and reading an op's output tensor back.
 */
import { readFileSync } from 'node:fs';
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { parseVaeConfig, type VaeConfig } from '../config';
import { GOLDEN_VAE, openFile } from './legacy-file.fixture';
import { loadVae, type LoadedVae, type LoadVaeOptions } from './load';

export const goldenVaeConfig: VaeConfig = parseVaeConfig(JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')));

/** f16 storage where the adapter has shader-f16, else f32 (what the studio picks). */
export const vaeDtypeOf = (ctx: GpuContext) => (ctx.hasF16 ? 'f16' : 'f32');

export async function loadGoldenVae(ctx: GpuContext, path = GOLDEN_VAE, o: Partial<LoadVaeOptions> = {}): Promise<LoadedVae> {
  const file = await openFile(path);
  try {
    return await loadVae(ctx, file, goldenVaeConfig, { dtype: vaeDtypeOf(ctx), ...o });
  } finally {
    await file.close();
  }
}

/** Reads an op's new output tensor back and returns it to the pool. */
export async function takeTensor(ctx: GpuContext, t: Promise<Tensor>): Promise<Float32Array> {
  const y = await t;
  const data = await ctx.read(y);
  ctx.release(y);
  return data;
}
