/**
 * Model import into OPFS through the Models page, against the fake hub (e2e/fixtures/hub-server.mjs on
 * :4180, serving golden/models as tiny/sdxl). Real OPFS, real fetch, the real import worker; the server's
 * request log is the witness for Range resumes. Quota: one test lowers the estimate the import worker
 * sees (StorageManager.prototype.estimate inside that worker, so the app's own check runs unchanged);
 * another lowers the origin's real quota through CDP so that the browser itself refuses a write.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Page } from '@playwright/test';
import { formatSize } from '../src/storage/bytes';
import type { StudioBridge } from '../src/ui/studio';
import { expect, studioReady, test } from './fixtures/studio';

const HUB = 'http://127.0.0.1:4180';
const GOLDEN = join(process.cwd(), 'golden/models');
const UNET = 'unet/diffusion_pytorch_model.safetensors';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [relative(GOLDEN, join(dir, n)).split('\\').join('/')]));
}
const GOLDEN_FILES = walk(GOLDEN);
/** Every golden file is one the studio takes (the tiny pipeline has no extras). */
const TOTAL_BYTES = GOLDEN_FILES.reduce((a, p) => a + statSync(join(GOLDEN, p)).size, 0);
const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

interface LogEntry {
  method: string;
  path: string;
  range: string | null;
  status: number;
  start: number;
  bytesSent: number;
  dropped: boolean;
}

async function hub(path: string, method = 'GET', body?: unknown): Promise<unknown> {
  const r = await fetch(`${HUB}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return r.json();
}
const serverLog = async () => (await hub('/__log')) as LogEntry[];
const unetRequests = async () => (await serverLog()).filter((e) => e.path === UNET && e.method === 'GET');

test.beforeEach(async () => {
  await hub('/__faults', 'DELETE');
  await hub('/__log', 'DELETE');
});

async function bridge(page: Page): Promise<StudioBridge> {
  return page.evaluate(() => window.__studio as StudioBridge);
}

/** Opens the Models page with the hub set to the fake one. */
async function openModels(page: Page): Promise<void> {
  if (page.url() === 'about:blank') await page.goto('/');
  await studioReady(page);
  await page.getByRole('navigation', { name: 'Studio sections' }).getByRole('button', { name: /^Models/ }).click();
  await page.waitForFunction(() => window.__studio?.modelsLoaded === true);
  await page.locator('.advanced summary').click();
  await page.getByTestId('hub-url').fill(HUB);
  await page.getByTestId('hub-url').press('Enter');
}

async function startImport(page: Page, text: string): Promise<void> {
  await page.getByTestId('import-source').fill(text);
  await page.getByTestId('import-go').click();
}

async function waitVerified(page: Page, id: string, timeout = 60_000): Promise<void> {
  await page.waitForFunction((i) => window.__studio?.models.some((m) => m.id === i && m.verified), id, { timeout });
}

async function waitImportEnded(page: Page): Promise<StudioBridge['imports'][number]> {
  await page.waitForFunction(() => (window.__studio?.imports ?? []).some((r) => r.state !== 'running'), undefined, { timeout: 60_000 });
  return (await bridge(page)).imports.find((r) => r.state !== 'running')!;
}

/** A file in OPFS: size and SHA-256, or null. */
async function opfsFile(page: Page, path: string): Promise<{ size: number; sha256: string } | null> {
  return page.evaluate(async (p) => {
    try {
      let dir = await navigator.storage.getDirectory();
      const parts = p.split('/');
      for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
      const f = await (await dir.getFileHandle(parts[parts.length - 1]!)).getFile();
      const d = new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()));
      return { size: f.size, sha256: Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('') };
    } catch {
      return null;
    }
  }, path);
}

/** Paths under an OPFS folder (recursive); null when it does not exist. */
async function opfsList(page: Page, path: string): Promise<string[] | null> {
  return page.evaluate(async (p) => {
    const list = async (d: FileSystemDirectoryHandle, pre: string): Promise<string[]> => {
      const out: string[] = [];
      for await (const [n, h] of (d as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
        if (h.kind === 'file') out.push(pre + n);
        else out.push(...(await list(h as FileSystemDirectoryHandle, `${pre}${n}/`)));
      }
      return out;
    };
    try {
      let dir = await navigator.storage.getDirectory();
      for (const part of p.split('/')) dir = await dir.getDirectoryHandle(part);
      return (await list(dir, '')).sort();
    } catch {
      return null;
    }
  }, path);
}

test.describe('model import (OPFS)', () => {
  test.setTimeout(120_000);

  test('imports tiny/sdxl by repo id: verified with the right byte count, files equal the source, survives a reload', async ({ page, pageErrors }) => {
    await openModels(page);
    await expect(page.getByTestId('models-empty')).toBeVisible();
    await startImport(page, 'tiny/sdxl');
    await waitVerified(page, 'tiny--sdxl');

    const b = await bridge(page);
    expect(b.models).toEqual([
      { id: 'tiny--sdxl', name: 'tiny/sdxl', kind: 'sdxl', layout: 'diffusers', state: 'verified', verified: true, bytes: TOTAL_BYTES, bytesOnDisk: expect.any(Number) },
    ]);
    expect(b.activeModelId).toBe('tiny--sdxl'); // the first model becomes the active one
    const row = page.locator('[data-testid="model-row"][data-model-id="tiny--sdxl"]');
    await expect(row).toHaveAttribute('data-state', 'verified');
    await expect(row).toContainText('Verified');
    await expect(row).toContainText('SDXL');
    await expect(row).toContainText('In use');

    // The layout: every source file under its final name, the manifest, nothing partial left.
    const stored = await opfsList(page, 'models/tiny--sdxl');
    expect(stored).toEqual([...GOLDEN_FILES, 'manifest.json'].sort());
    for (const p of [UNET, 'tokenizer/vocab.json', 'text_encoder_2/model.safetensors']) {
      expect((await opfsFile(page, `models/tiny--sdxl/${p}`))!.sha256).toBe(sha256(readFileSync(join(GOLDEN, p))));
    }
    const manifest = JSON.parse(await page.evaluate(async () => {
      const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('models');
      return (await (await (await d.getDirectoryHandle('tiny--sdxl')).getFileHandle('manifest.json')).getFile()).text();
    }));
    expect(manifest).toMatchObject({ version: 1, id: 'tiny--sdxl', kind: 'sdxl', layout: 'diffusers', verified: true, bytes: TOTAL_BYTES, source: { type: 'url', repo: 'tiny/sdxl', hub: HUB } });
    expect(manifest.files).toHaveLength(GOLDEN_FILES.length);

    await page.reload();
    await openModels(page);
    await expect(page.locator('[data-testid="model-row"][data-model-id="tiny--sdxl"]')).toHaveAttribute('data-state', 'verified');
    const after = await bridge(page);
    expect(after.models.map((m) => [m.id, m.verified, m.bytes])).toEqual([['tiny--sdxl', true, TOTAL_BYTES]]);
    expect(after.activeModelId).toBe('tiny--sdxl');
    expect(pageErrors).toEqual([]);
  });

  test('a connection dropped mid-file resumes with a Range request from the byte it stopped at', async ({ page }) => {
    await hub('/__faults', 'POST', { drops: [{ path: UNET, afterBytes: 3_000_000, times: 1 }] });
    await openModels(page);
    await startImport(page, 'tiny/sdxl');
    await waitVerified(page, 'tiny--sdxl');

    const reqs = await unetRequests();
    expect(reqs).toHaveLength(2);
    expect(reqs[0]).toMatchObject({ range: null, status: 200, dropped: true, bytesSent: 3_000_000 });
    expect(reqs[1]).toMatchObject({ range: 'bytes=3000000-', status: 206, start: 3_000_000, dropped: false });
    const source = readFileSync(join(GOLDEN, UNET));
    expect(reqs[1]!.bytesSent).toBe(source.length - 3_000_000);
    expect(await opfsFile(page, `models/tiny--sdxl/${UNET}`)).toEqual({ size: source.length, sha256: sha256(source) });
  });

  test('cancel leaves an incomplete, resumable import; Resume finishes it from the stored bytes', async ({ page }) => {
    await hub('/__faults', 'POST', { throttle: { path: UNET, bytesPerSecond: 1_000_000 } });
    await openModels(page);
    await startImport(page, 'tiny/sdxl');
    await expect.poll(async () => (await unetRequests())[0]?.bytesSent ?? 0, { timeout: 30_000 }).toBeGreaterThan(1_500_000);
    await page.getByTestId('import-cancel').click();
    const ended = await waitImportEnded(page);
    expect(ended.state).toBe('cancelled');

    const row = page.locator('[data-testid="model-row"][data-model-id="tiny--sdxl"]');
    await expect(row).toHaveAttribute('data-state', 'incomplete');
    await expect(row).toContainText('Incomplete');
    expect((await bridge(page)).models[0]).toMatchObject({ id: 'tiny--sdxl', verified: false });
    expect((await bridge(page)).activeModelId).toBeNull(); // never used while incomplete
    const partial = await opfsFile(page, `models/tiny--sdxl/${UNET}.partial`);
    expect(partial!.size).toBeGreaterThan(1_000_000);
    expect(await opfsFile(page, 'models/tiny--sdxl/manifest.json')).toBeNull();

    await hub('/__faults', 'DELETE');
    await hub('/__log', 'DELETE');
    await row.getByTestId('model-resume').click();
    await waitVerified(page, 'tiny--sdxl');
    const reqs = await unetRequests();
    expect(reqs.map((r) => r.range)).toEqual([`bytes=${partial!.size}-`]);
    // Files finished before the cancel are not fetched again.
    expect((await serverLog()).some((e) => e.path === 'model_index.json' || e.path === 'unet/config.json')).toBe(false);
    const source = readFileSync(join(GOLDEN, UNET));
    expect(await opfsFile(page, `models/tiny--sdxl/${UNET}`)).toEqual({ size: source.length, sha256: sha256(source) });
  });

  test('closing the tab mid-import keeps the bytes; the next visit resumes from them', async ({ page, context }) => {
    await hub('/__faults', 'POST', { throttle: { path: UNET, bytesPerSecond: 1_000_000 } });
    await openModels(page);
    await startImport(page, 'tiny/sdxl');
    await expect.poll(async () => (await unetRequests())[0]?.bytesSent ?? 0, { timeout: 30_000 }).toBeGreaterThan(2_000_000);
    await page.close();

    await hub('/__faults', 'DELETE');
    await hub('/__log', 'DELETE');
    const again = await context.newPage();
    await openModels(again);
    const row = again.locator('[data-testid="model-row"][data-model-id="tiny--sdxl"]');
    await expect(row).toHaveAttribute('data-state', 'incomplete');
    const partial = await opfsFile(again, `models/tiny--sdxl/${UNET}.partial`);
    expect(partial!.size).toBeGreaterThan(1_000_000);
    await row.getByTestId('model-resume').click();
    await waitVerified(again, 'tiny--sdxl');
    expect((await unetRequests()).map((r) => r.range)).toEqual([`bytes=${partial!.size}-`]);
    const source = readFileSync(join(GOLDEN, UNET));
    expect(await opfsFile(again, `models/tiny--sdxl/${UNET}`)).toEqual({ size: source.length, sha256: sha256(source) });
  });

  test('without a worker the import runs in the page (createWritable) and still resumes a dropped file', async ({ page }) => {
    await page.addInitScript(() => Object.defineProperty(window, 'Worker', { value: undefined }));
    await hub('/__faults', 'POST', { drops: [{ path: UNET, afterBytes: 2_000_000, times: 1 }] });
    await openModels(page);
    await startImport(page, 'tiny/sdxl');
    await waitVerified(page, 'tiny--sdxl');
    expect((await unetRequests()).map((r) => r.range)).toEqual([null, 'bytes=2000000-']);
    const source = readFileSync(join(GOLDEN, UNET));
    expect(await opfsFile(page, `models/tiny--sdxl/${UNET}`)).toEqual({ size: source.length, sha256: sha256(source) });
    expect(await opfsList(page, 'models/tiny--sdxl')).toEqual([...GOLDEN_FILES, 'manifest.json'].sort());
  });

  test('a corrupt UNet file is refused with a message naming it, and nothing is registered', async ({ page }) => {
    await openModels(page);
    await startImport(page, 'tiny/corrupt');
    const ended = await waitImportEnded(page);
    expect(ended.state).toBe('failed');
    expect(ended.error!.code).toBe('truncated');
    const error = page.getByTestId('import-error');
    await expect(error).toContainText('A file is incomplete');
    await expect(error).toContainText(`${UNET}, tensor`);
    await expect(error).toContainText(/the data section has \d+ bytes but tensors need \d+/);
    expect((await bridge(page)).models).toEqual([]);
    expect(await opfsList(page, 'models/tiny--corrupt')).toBeNull();
  });

  test('a model that is not SDXL is refused (diffusers repo and single-file URL)', async ({ page }) => {
    await openModels(page);
    await startImport(page, 'tiny/not-sdxl');
    const first = await waitImportEnded(page);
    expect(first.error).toMatchObject({ code: 'wrong-model', file: UNET });
    await expect(page.getByTestId('import-error')).toContainText('This is not an SDXL (or SD-1.5) model');
    await expect(page.getByTestId('import-error')).toContainText(`${UNET}, tensor "conv_in.weight": none of the`);

    await page.getByRole('button', { name: 'Dismiss' }).click();
    await startImport(page, `${HUB}/files/unet-only.safetensors`);
    const second = await waitImportEnded(page);
    expect(second.error).toMatchObject({ code: 'wrong-model', file: 'unet-only.safetensors' });
    await expect(page.getByTestId('import-error')).toContainText('unet-only.safetensors: no tensor starts with "model.diffusion_model."');
    expect((await bridge(page)).models).toEqual([]);
    expect(await opfsList(page, 'models')).toEqual([]);
  });

  test('a picked diffusers folder is copied and verified', async ({ page }) => {
    await openModels(page);
    await page.getByTestId('import-folder-input').setInputFiles(GOLDEN);
    await page.waitForFunction(() => window.__studio?.models.some((m) => m.verified), undefined, { timeout: 60_000 });
    const m = (await bridge(page)).models[0]!;
    expect(m).toMatchObject({ name: 'models', kind: 'sdxl', layout: 'diffusers', verified: true, bytes: TOTAL_BYTES });
    expect(m.id).toMatch(/^models-[0-9a-f]{6}$/);
    expect((await opfsFile(page, `models/${m.id}/${UNET}`))!.sha256).toBe(sha256(readFileSync(join(GOLDEN, UNET))));
    await expect(page.locator(`[data-testid="model-row"][data-model-id="${m.id}"]`)).toContainText('folder models');
  });

  test('delete (after confirming) removes the model and frees its storage', async ({ page }) => {
    await openModels(page);
    await startImport(page, 'tiny/sdxl');
    await waitVerified(page, 'tiny--sdxl');
    const usage = () => page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    const before = await usage();
    expect(before).toBeGreaterThanOrEqual(TOTAL_BYTES);

    const row = page.locator('[data-testid="model-row"][data-model-id="tiny--sdxl"]');
    await row.getByTestId('model-delete').click();
    await expect(row).toContainText('Delete and free');
    await row.getByTestId('model-delete-confirm').click();
    await expect(row).toHaveCount(0);
    await expect(page.getByTestId('models-empty')).toBeVisible();
    expect(await opfsList(page, 'models/tiny--sdxl')).toBeNull();
    const b = await bridge(page);
    expect(b.models).toEqual([]);
    expect(b.activeModelId).toBeNull();
    await expect.poll(usage).toBeLessThanOrEqual(before - TOTAL_BYTES * 0.99);
    await expect(page.getByTestId('storage-models')).toHaveText('0 B');
  });

  test('too little free quota (by the estimate) refuses the import with the space it needs', async ({ page }) => {
    await page.goto('/');
    const worker = page.waitForEvent('worker', (w) => w.url().includes('import-worker'));
    await openModels(page);
    // Lower only what navigator.storage.estimate() answers inside the import worker; the import's own check runs as it is.
    await (await worker).evaluate(() => {
      StorageManager.prototype.estimate = async () => ({ quota: 5_000_000, usage: 1_000_000 });
    });
    await startImport(page, 'tiny/sdxl');
    const ended = await waitImportEnded(page);
    expect(ended.error!.code).toBe('storage-quota');
    const error = page.getByTestId('import-error');
    await expect(error).toContainText('Not enough storage space');
    await expect(error).toContainText(`this import needs ${formatSize(TOTAL_BYTES)} more, but only ${formatSize(4_000_000)} is available`);
    expect((await unetRequests()).length).toBe(0); // refused before any download
  });

  test('a write the browser refuses for quota becomes the same error, naming the file (real quota via CDP)', async ({ page, context, baseURL }) => {
    await page.goto('/');
    await studioReady(page);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL!).origin, quotaSize: 4_000_000 });
    await openModels(page);
    await startImport(page, 'tiny/sdxl');
    const ended = await waitImportEnded(page);
    expect(ended.error!.code).toBe('storage-quota');
    await expect(page.getByTestId('import-error')).toContainText(/Not enough storage space: this import needs [\d.]+ MiB more and the browser refused to write unet\/diffusion_pytorch_model\.safetensors/);
    // What was written stays, resumable once there is room.
    await expect(page.locator('[data-testid="model-row"][data-model-id="tiny--sdxl"]')).toHaveAttribute('data-state', 'incomplete');
  });
});
