/**
 * Single-file checkpoints in the studio (issue 12 point 1): the test writes the tiny golden SDXL as an
 * SGM single file (F16, src/model/weights/tiny-single-file.fixture.ts) into a temp folder with its
 * tokenizer folders beside it; the person picks that folder on the Models page; the import stores the
 * checkpoint and the tokenizers in OPFS, verifies it (configs read off its tensors), and the studio
 * generates from it in its engine worker. A PyTorch pickle picked as a file is refused by name with why.
 */
import { rmSync } from 'node:fs';
import { writeTinySingleFile } from '../src/model/weights/tiny-single-file.fixture';
import type { StudioBridge } from '../src/ui/studio';
import { canvasVariety, fillGenerate, waitGenerated } from './fixtures/models';
import { expect, openSection, studioReady, test } from './fixtures/studio';

test.setTimeout(300_000);

test('a single-file checkpoint made from the tiny model imports with its tokenizers and generates; a .ckpt is refused by name', async ({ page, pageErrors }) => {
  const { dir } = writeTinySingleFile({ dtype: 'F16', name: 'tiny_sdxl.safetensors' });
  try {
    await page.goto('/');
    await studioReady(page);
    await openSection(page, 'Models');
    await page.waitForFunction(() => window.__studio?.modelsLoaded === true);

    await page.getByTestId('import-file-input').setInputFiles({ name: 'old-model.ckpt', mimeType: 'application/octet-stream', buffer: Buffer.from('not read') });
    await page.waitForFunction(() => (window.__studio?.imports ?? []).some((r) => r.state === 'failed'), undefined, { timeout: 30_000 });
    await expect(page.getByTestId('import-error')).toHaveAttribute('data-code', 'unsafe-format');
    await expect(page.getByTestId('import-error')).toContainText('old-model.ckpt: a .ckpt file is a PyTorch pickle, and loading a pickle can run any code');
    await page.getByRole('button', { name: 'Dismiss' }).click();

    await page.getByTestId('import-folder-input').setInputFiles(dir);
    await page.waitForFunction(() => window.__studio?.models.some((m) => m.verified), undefined, { timeout: 90_000 });
    const m = (await page.evaluate(() => window.__studio as StudioBridge)).models[0]!;
    expect(m).toMatchObject({ kind: 'sdxl', layout: 'single-file', verified: true });
    const row = page.locator(`[data-testid="model-row"][data-model-id="${m.id}"]`);
    await expect(row).toContainText('single file');
    await expect(row.getByTestId('model-needs')).toHaveCount(0); // the tokenizers came with it
    await page.waitForFunction((id) => window.__studio?.activeModelId === id, m.id, { timeout: 30_000 });

    await fillGenerate(page, { prompt: 'a photo of an astronaut riding a horse', negative: 'blurry', seed: 11 });
    await page.getByTestId('gen-go').click();
    await waitGenerated(page, 180_000);
    const s = await studioReady(page);
    expect(s.generation.error).toBeNull();
    expect(s.generation.phase).toBe('done');
    expect(s.generation.result).toMatchObject({ width: 64, height: 48, seed: 11 });
    expect(await canvasVariety(page, 'gen-image')).toBeGreaterThan(10);
    expect(pageErrors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
