/**
 * A model whose VAE has three levels (latent factor 4, tiny-factor4.fixture.ts) imports as what it is and
 * generates a whole picture: latents of H/4 × W/4, an image of the asked size whose every quarter and
 * channel varies (the bug this guards against: a loop that assumed a factor of 8 decoded a picture that
 * was red only, its bottom quarter black), at a size that is a multiple of 4 but not of 8. The f16 tier
 * only (2 s on lavapipe, 50 s on SwiftShader): the latent factor does not depend on the dtype.
 */
import { openAsBlob, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER, TEST_DEVICE_OPTIONS, testGpu } from '../../tests/gpu-harness';
import { textToImage } from '../diffusion/text-to-image';
import { NodeModelFiles } from '../model/node-model-files';
import { writeTinyFactor4Folder } from '../model/weights/tiny-factor4.fixture';
import { verifyDiffusers } from '../storage/models/verify';
import { loadSdxlModel } from './sdxl-model';
import { InThreadEngine } from './engine';

const dir = writeTinyFactor4Folder();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function walk(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [relative(dir, join(d, n))]));
}

function std(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

describe(`a three-level VAE (latent factor 4) on ${TEST_ADAPTER}`, () => {
  it('is verified at import as an SDXL model', async () => {
    const v = await verifyDiffusers(async (p) => openAsBlob(join(dir, p)), walk(dir));
    expect(v.kind).toBe('sdxl');
  });

  it('generates a whole 68×44 picture from 17×11 latents', async () => {
    const ctx = await testContext();
    const m = await checked(ctx, 'load', () => loadSdxlModel(ctx, new NodeModelFiles(dir, 'tiny-f4'), { dtype: ctx.hasF16 ? 'f16' : 'f32' }));
    try {
      expect(m.parts.latentFactor).toBe(4);
      const [W, H] = [68, 44];
      const r = await checked(ctx, 'textToImage', () => textToImage(m.parts, { prompt: 'a red mug on a blue table', width: W, height: H, steps: 2, guidanceScale: 5, scheduler: 'euler', seed: 3 }, { previewEvery: 0 }));
      expect(r.latents.length).toBe(4 * (H / 4) * (W / 4));
      expect(r.image.length).toBe(3 * H * W);
      expect(r.image.every(Number.isFinite)).toBe(true);
      // every channel varies in every horizontal quarter of the picture
      for (let c = 0; c < 3; c++) {
        for (let q = 0; q < 4; q++) {
          const rows = Array.from({ length: H / 4 }, (_, k) => q * (H / 4) + k);
          const vals = rows.flatMap((y) => Array.from({ length: W }, (_, x) => r.image[c * H * W + y * W + x]!));
          expect(std(vals), `channel ${c}, quarter ${q}`).toBeGreaterThan(0.01);
        }
      }
    } finally {
      m.destroy();
    }
  });

  it('the engine (size check, memory plan, run) takes a 68×44 run too', async () => {
    const engine = new InThreadEngine({ gpu: testGpu(), deviceOptions: TEST_DEVICE_OPTIONS, openModel: async (ref) => new NodeModelFiles(dir, ref.id) });
    try {
      await engine.load({ type: 'stored', id: 'tiny-f4' }, 'f16');
      const r = await engine.generate({ prompt: 'a red mug on a blue table', negativePrompt: '', width: 68, height: 44, steps: 2, guidanceScale: 5, scheduler: 'euler', seed: 3 });
      expect([r.image.width, r.image.height]).toEqual([68, 44]);
    } finally {
      engine.dispose();
    }
  });
});
