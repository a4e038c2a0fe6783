import { createServer } from 'vite';
import { chromium } from '@playwright/test';
const root = '/work/main';
const server = await createServer({ configFile: false, root, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, hmr: false, watch: { ignored: ['**/*'] } }, optimizeDeps: { exclude: ['onnxruntime-web'] } });
await server.listen();
const url = server.resolvedUrls.local[0];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'] });
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error(m.text()));
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(`${url}bench/index.html`);
  await page.waitForFunction(() => window.__bench, null, { timeout: 120000 });
  const cdp = process.argv[3] === 'prof' ? await page.context().newCDPSession(page) : null;
  if (cdp) { await cdp.send('Profiler.enable'); await cdp.send('Profiler.setSamplingInterval', { interval: 500 }); }
  const res = await page.evaluate(async ([what, file]) => { const m = await import('/bench/' + file); return m.run(what); }, [process.argv[2], process.env.DIAG ?? '_diag-train.ts']);
  console.log(JSON.stringify(res, null, 1));
} finally { await browser.close(); await server.close(); }
