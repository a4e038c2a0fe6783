import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseVaeConfig, SDXL_VAE_CONFIG } from '../config';
import { planVae, planVaeRun } from './plan';

const MiB = 2 ** 20;
const LIMIT = 128 * MiB;

describe('VAE memory plan (dry run of the real forward)', () => {
  it('an untiled SDXL 1024² decode would bind 512 MiB (f16): the up_blocks.2 upsample output', async () => {
    const run = await planVaeRun(SDXL_VAE_CONFIG, 'decode', 1, 128, 128, 'f16');
    expect(run.largestActivation.shape).toEqual([1, 256, 1024, 1024]);
    expect(run.largestActivation.bytes).toBe(512 * MiB);
  });

  for (const dtype of ['f16', 'f32'] as const) {
    it(`bands the SDXL 1024² decode in ${dtype} by default: the whole run's memory, every binding ≤ 128 MiB`, async () => {
      const p = await planVae(SDXL_VAE_CONFIG, { op: 'decode', height: 128, width: 128, dtype });
      const whole = await planVaeRun(SDXL_VAE_CONFIG, 'decode', 1, 128, 128, dtype);
      expect(p.mode).toBe('bands');
      expect(p.tiled).toBe(false);
      expect(p.workRatio).toBe(1);
      expect(p.peakActivationBytes).toBe(whole.peakActivationBytes);
      expect(p.largestBindingBytes).toBeLessThanOrEqual(LIMIT);
      // 512 MiB in f16 (1024 MiB in f32) over ≤ 128 MiB bands that also bind a 2-row halo: 5 (9) bands
      expect(p.bands).toBe(dtype === 'f16' ? 5 : 9);
      console.log(`[vae plan] SDXL 1024² decode ${dtype} in bands: ${p.bands} bands of the largest activation ${p.largestActivation.label} ` +
        `[${p.largestActivation.shape}], largest binding ${(p.largestBindingBytes / MiB).toFixed(1)} MiB, peak activations ${(p.peakActivationBytes / MiB).toFixed(0)} MiB`);
    });

    it(`tiles the SDXL 1024² decode in ${dtype} in low-memory mode with every binding ≤ 128 MiB`, async () => {
      const p = await planVae(SDXL_VAE_CONFIG, { op: 'decode', height: 128, width: 128, dtype, lowMemory: true });
      expect(p.mode).toBe('tiles');
      expect(p.tiled).toBe(true);
      expect(p.largestBindingBytes).toBeLessThanOrEqual(LIMIT);
      expect(p.grid.tileHeight * p.grid.tileWidth).toBeLessThanOrEqual(dtype === 'f16' ? 4096 : 2048);
      // the grid covers the latent with ≥ 16 latent pixels of overlap between neighbours
      for (const spans of [p.grid.rows, p.grid.cols]) {
        expect(spans[0]!.start).toBe(0);
        expect(spans[spans.length - 1]!.end).toBe(128);
        for (let k = 1; k < spans.length; k++) expect(spans[k - 1]!.end - spans[k]!.start).toBeGreaterThanOrEqual(16);
      }
      // one tile's working set stays a small multiple of the binding limit (measured: 304 MiB in f16, 2×3
      // tiles of 72×54; 303 MiB in f32, 4×4 tiles of 44×44); the overlaps cost 1.42× / 1.89× the work
      expect(p.peakActivationBytes).toBeLessThanOrEqual(3 * LIMIT);
      expect(p.workRatio).toBeLessThan(dtype === 'f16' ? 1.5 : 2);
      console.log(`[vae plan] SDXL 1024² decode ${dtype}: ${p.grid.rows.length}×${p.grid.cols.length} tiles of ${p.grid.tileHeight}×${p.grid.tileWidth} latent px, ` +
        `largest binding ${(p.largestBindingBytes / MiB).toFixed(1)} MiB (${p.largestActivation.label} [${p.largestActivation.shape}]), ` +
        `peak activations ${(p.peakActivationBytes / MiB).toFixed(0)} MiB, pool ${(p.activationPoolBytes / MiB).toFixed(0)} MiB, ` +
        `weights ${(p.weightBytes / MiB).toFixed(0)} MiB, work ×${p.workRatio.toFixed(2)}`);
    });
  }

  it('decodes SDXL 512² (latent 64²) in f16 untiled: its largest activation is exactly 128 MiB', async () => {
    const p = await planVae(SDXL_VAE_CONFIG, { op: 'decode', height: 64, width: 64, dtype: 'f16' });
    expect(p.mode).toBe('whole');
    expect(p.tiled).toBe(false);
    expect(p.tiles).toBe(1);
    expect(p.largestBindingBytes).toBe(LIMIT);
    expect(p.workRatio).toBe(1);
    const f32 = await planVae(SDXL_VAE_CONFIG, { op: 'decode', height: 64, width: 64, dtype: 'f32' });
    expect(f32.mode).toBe('bands');
    expect(f32.bands).toBe(3); // 256 MiB with a halo: 3 bands of ≤ 128 MiB
    expect((await planVae(SDXL_VAE_CONFIG, { op: 'decode', height: 64, width: 64, dtype: 'f32', lowMemory: true })).tiled).toBe(true);
  });

  it('tiles the SDXL 1024² encode too, and a forced tile size is honoured', async () => {
    const untiled = await planVaeRun(SDXL_VAE_CONFIG, 'encode', 1, 128, 128, 'f16');
    expect(untiled.largestActivation.bytes).toBe(256 * MiB); // 128 ch at 1024² in f16
    const p = await planVae(SDXL_VAE_CONFIG, { op: 'encode', height: 128, width: 128, dtype: 'f16', lowMemory: true });
    expect(p.tiled).toBe(true);
    expect(p.largestBindingBytes).toBeLessThanOrEqual(LIMIT);
    const banded = await planVae(SDXL_VAE_CONFIG, { op: 'encode', height: 128, width: 128, dtype: 'f16' });
    expect([banded.mode, banded.bands]).toEqual(['bands', 3]);
    const tiny = parseVaeConfig(JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')));
    const forced = await planVae(tiny, { op: 'decode', height: 16, width: 20, dtype: 'f32', tile: { height: 10, width: 12 }, overlap: 4 });
    expect(forced.tiled).toBe(true);
    expect([forced.grid.rows.length, forced.grid.cols.length]).toEqual([2, 2]);
    expect(forced.grid.tileHeight).toBe(10);
  });
});
