import { expect, test } from './fixtures/studio';

interface ManifestIcon {
  src: string;
  sizes: string;
  type: string;
  purpose?: string;
}

/** Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian). */
function pngSize(buf: Buffer): [number, number] {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(buf.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

test.describe('PWA manifest', () => {
  test('is linked, served, parses, and its icons exist with the sizes it claims', async ({ page, request }) => {
    await page.goto('/');
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    expect(href).toBe('/manifest.webmanifest');

    const res = await request.get(href!);
    expect(res.status()).toBe(200);
    const manifest = JSON.parse(await res.text()) as Record<string, unknown> & { icons: ManifestIcon[] };
    expect(manifest).toMatchObject({
      name: 'CIDM Studio',
      short_name: 'CIDM Studio',
      display: 'standalone',
      start_url: '/',
      theme_color: '#0b0d12',
      background_color: '#0b0d12',
    });

    const icons = manifest.icons;
    const find = (pred: (i: ManifestIcon) => boolean) => icons.find(pred);
    expect(find((i) => i.sizes === '192x192' && i.type === 'image/png')).toBeTruthy();
    expect(find((i) => i.sizes === '512x512' && i.type === 'image/png' && i.purpose !== 'maskable')).toBeTruthy();
    expect(find((i) => i.purpose === 'maskable')).toBeTruthy();
    expect(find((i) => i.type === 'image/svg+xml')).toBeTruthy();

    for (const icon of icons) {
      const r = await request.get(`/${icon.src}`);
      expect(r.status(), icon.src).toBe(200);
      const body = await r.body();
      if (icon.type === 'image/png') {
        const [w, h] = pngSize(body);
        expect(`${w}x${h}`, icon.src).toBe(icon.sizes);
      } else {
        expect(body.toString('utf8')).toContain('<svg');
      }
    }
  });

  test('the service worker precaches the shell but no model weights or golden data', async ({ request }) => {
    const sw = await (await request.get('/sw.js')).text();
    expect(sw).toContain('index.html');
    expect(sw).toContain('manifest.webmanifest');
    expect(sw).not.toMatch(/\.safetensors|\.onnx|golden\//);
  });
});
