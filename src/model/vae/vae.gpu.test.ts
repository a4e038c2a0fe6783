// The tiny AutoencoderKL (golden/models/vae) on the GPU: the four VAE golden cases through the runner's runCase (f32 on
// SwiftShader, f16 storage on lavapipe), loading from a legacy-named file, decoder-only loading and
// abort. The tiled paths are in tiled.gpu.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare } from '../../../tests/numeric';
import { GoldenCase, readManifest } from '../../golden/case-file';
import { GoldenEnv } from '../../golden/env';
import { formatResult } from '../../golden/result';
import { runCase } from '../../golden/runner';
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { vaeWeightShapes } from './arch';
import { goldenVaeConfig, loadGoldenVae, vaeDtypeOf } from './golden-vae.fixture';
import { GOLDEN_VAE, openFile, writeLegacyVae } from './legacy-file.fixture';
import { destroyVae, loadVae, type LoadedVae } from './load';
import { vaeDecode, vaeEncode } from './vae';

const config = goldenVaeConfig;
/** The brief's bounds per tensor: f32 1e-4 · max|expected|; f16 storage 1e-2 (golden/README.md "fp16 implementations"). */
const bound = (ctx: GpuContext) => (ctx.hasF16 ? 1e-2 : 1e-4);
const dtypeOf = vaeDtypeOf;


async function goldenZ(ctx: GpuContext, vae: LoadedVae) {
  const c = await GoldenCase.open('golden', 'vae_decode', readManifest('golden').cases.vae_decode!);
  const z = ctx.upload(await c.f32('input.z'), c.shape('input.z'), vae.dtype, 'z');
  await c.close();
  return z;
}

describe(`VAE on ${TEST_ADAPTER}`, () => {
  it('matches every tensor of vae_decode, vae_encode, op_vae_mid_attention and op_vae_up_block1', async () => {
    const ctx = await testContext();
    const env = new GoldenEnv(ctx, 'golden', dtypeOf(ctx));
    const manifest = readManifest('golden');
    let count = 0;
    await checked(ctx, 'vae golden cases', async () => {
      // the VAE cases of the set, as the runner picks them (group d_vae and the per-op cases on models/vae)
      const names = Object.entries(manifest.cases).filter(([, e]) => e.group === 'd_vae' || String(e.weights ?? '').includes('models/vae/')).map(([n]) => n);
      expect(names.length).toBe(4);
      for (const name of names) {
        for (const r of await runCase(env, name, manifest.cases[name]!)) {
          console.log(`[vae golden ${env.dtype}] ${formatResult(r)}`);
          expect(r.status, r.name).not.toBe('SKIP');
          expect(r.maxRel, r.name).toBeLessThanOrEqual(bound(ctx));
          count++;
        }
      }
    });
    // decode: post_quant_conv, conv_in, mid_block, up_blocks.0/1, image; encode: encoder_out + 6 outputs; 2 op cases
    expect(count).toBe(6 + 7 + 2);
  });

  it('a legacy-named file (query/key/value/proj_attn, 1×1-conv projections) decodes bit-identically', async () => {
    const ctx = await testContext();
    const a = await loadGoldenVae(ctx);
    const b = await loadGoldenVae(ctx, await writeLegacyVae());
    const z = await goldenZ(ctx, a);
    const [ya, yb] = [await vaeDecode(ctx, a, z), await vaeDecode(ctx, b, z)];
    const [da, db] = [await ctx.read(ya), await ctx.read(yb)];
    expect(compare(db, da).maxAbs).toBe(0);
    ctx.release(z, ya, yb);
    destroyVae(ctx, a);
    destroyVae(ctx, b);
  });

  it('loads the decoder alone, refuses to encode with it, and destroys what it created on abort', async () => {
    const ctx = await testContext();
    const full = await loadGoldenVae(ctx);
    const dec = await loadGoldenVae(ctx, GOLDEN_VAE, { decoderOnly: true });
    expect(dec.parts).toEqual(['decoder']);
    expect(dec.weights.size).toBe(vaeWeightShapes(config, ['decoder']).size);
    expect(dec.bytes).toBeLessThan(full.bytes);
    const x = ctx.upload(new Float32Array(3 * 16 * 16), [1, 3, 16, 16], dec.dtype, 'img');
    await expect(vaeEncode(ctx, dec, x)).rejects.toThrow(/encoder was not loaded/);
    ctx.release(x);
    destroyVae(ctx, full);
    destroyVae(ctx, dec);

    const abort = new AbortController();
    const destroyed = vi.spyOn(ctx, 'destroyTensor');
    const file = await openFile(GOLDEN_VAE);
    const run = loadVae(ctx, file, config, { dtype: dtypeOf(ctx), signal: abort.signal, onProgress: (done) => done === 10 && abort.abort() });
    await expect(run).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }));
    expect(destroyed).toHaveBeenCalledTimes(10);
    destroyed.mockRestore();
    await file.close();
  });
});

