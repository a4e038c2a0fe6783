#!/usr/bin/env node
// npm run bench [-- --suite matmul[,blocks,unet,step,regions,train,ewa,whole]] [--full] [--runs N] [--variants naive,tiled] [--profile] [--json FILE]
// Serves bench/ with Vite, opens it in headless Chromium (WebGPU on whatever adapter Chromium gets:
// SwiftShader on a CPU machine, the real GPU elsewhere), runs our kernels and onnxruntime-web's WebGPU
// EP on the same GPUDevice in the same run, and prints ms, GFLOP/s and the ratio peer/ours per row.
// Default sizes are the `_small` ones (1/4 of SDXL-1024's tokens) for CPU adapters; --full for a GPU.
import { createServer } from 'vite';
import { chromium } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const value = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const options = {
  // --full without --suite: everything the GPU table needs (SDXL 1024² shapes, blocks, the whole step)
  suites: value('suite', flag('full') ? 'matmul,blocks,unet,step,whole' : 'matmul').split(','),
  size: flag('full') ? 'full' : 'small',
  maxRuns: Number(value('runs', '5')),
  variants: value('variants', '') ? value('variants', '').split(',') : undefined,
  profile: flag('profile'),
};
const jsonFile = value('json', '');

const server = await createServer({
  configFile: false,
  root,
  logLevel: 'warn',
  // No HMR or file watching: an edit elsewhere in the tree must not reload the page mid-run.
  server: { host: '127.0.0.1', port: 0, hmr: false, watch: { ignored: ['**/*'] } },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
await server.listen();
const url = server.resolvedUrls.local[0];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'],
});
let exitCode = 0;
try {
  const page = await browser.newPage();
  page.on('console', (m) => m.text().startsWith('[bench]') && console.error(m.text()));
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(`${url}bench/index.html`);
  await page.waitForFunction(() => window.__bench, null, { timeout: 120_000 });
  const result = await page.evaluate((o) => window.__bench.run(o), options);
  if (result.rows.length) printTable(result);
  if (result.steps?.length) printSteps(result);
  if (result.regions?.length) printRegions(result);
  if (result.train?.length) printTrain(result);
  if (result.ewa?.length) printEwa(result);
  if (result.whole?.length) printWhole(result);
  if (jsonFile) {
    writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), adapter: result.adapter, peakGflops: result.peakGflops, options, rows: result.rows, regions: result.regions, ...(result.train?.length ? { train: result.train } : {}), ...(result.ewa?.length ? { ewa: result.ewa } : {}), ...(result.steps?.length ? { steps: result.steps } : {}), ...(result.whole?.length ? { whole: result.whole } : {}) }, null, 2));
    console.log(`wrote ${jsonFile}`);
  }
  if (result.rows.some((r) => !(r.maxAbsVsPeer <= 1e-3 * Math.max(1, r.outputScale)))) {
    console.log('ERROR: some outputs differ from the peer (see max|Δ|)');
    exitCode = 1;
  }
} finally {
  await browser.close();
  await server.close();
}
process.exit(exitCode);

// The step suite: one whole UNet step, GFLOP/s against the measured peak, dispatches (bench/step.ts).
function printSteps({ adapter, peakGflops, steps }) {
  console.log(`\nadapter: ${adapter}   one UNet step (CFG batch 2); f32 FMA peak ${peakGflops.toFixed(1)} GFLOP/s (measured)\n`);
  const head = ['model', 'size', 'dtype', 'ms', 'TFLOP', 'GFLOP/s', '% peak', 'dispatches'];
  const body = steps.map((r) => [r.model, r.size, r.dtype, r.ms.toFixed(1), r.tflop.toFixed(3), r.gflops.toFixed(1), r.pctPeak.toFixed(1), String(r.dispatches)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const b of body) console.log(line(b));
}

// The regions suite: cost of painted regions relative to plain (0 regions), no peer.
function printRegions({ adapter, regions }) {
  console.log(`\nadapter: ${adapter}   regional synthesis cost (× plain = ms / ms with 0 regions; per pass = (ms / batch) / plain's)\n`);
  const head = ['what', 'regions', 'batch', 'ms', '× plain', 'per pass × plain'];
  const body = regions.map((r) => [r.what, String(r.regions), String(r.batch), r.ms.toFixed(1), r.vsPlain.toFixed(2), r.perPassVsPlain.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const b of body) console.log(line(b));
}

// The whole suite: a whole sampling run, ours against an onnxruntime-web loop (bench/whole.ts).
function printWhole({ adapter, whole }) {
  console.log(`\nadapter: ${adapter}   whole sampling run (ratio = peer ms / ours ms; text encoders and VAE excluded on both sides)\n`);
  const head = ['run', 'ours ms', 'ours ms/step', '(bare UNet ms)', 'peer ms', 'peer ms/step', 'ratio', 'final latents max|Δ|'];
  const body = whole.map((r) => [r.what, r.oursMs.toFixed(0), r.oursStepMs.toFixed(1), r.oursUnetMs.toFixed(1), r.peerMs.toFixed(0), r.peerStepMs.toFixed(1), `${r.ratio.toFixed(2)}x`, `${r.maxAbsVsPeer.toExponential(1)} of ${r.latentScale.toFixed(2)}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const b of body) console.log(line(b));
}

// The ewa suite: EWA's once-per-prompt fold and the step on folded weights with 1/10/50 concepts (bench/ewa.ts).
function printEwa({ adapter, ewa }) {
  console.log(`\nadapter: ${adapter}   EWA on the tiny SDXL (step × 1 = step ms / step ms with 1 concept; target ≤ 1.05)\n`);
  const head = ['concepts', 'library ms', 'fold ms', '(encode', 'weights', 'merge)', 'step ms', 'step × 1'];
  const body = ewa.map((r) => [String(r.concepts), r.library_ms.toFixed(0), r.fold_ms.toFixed(0), r.encode_ms.toFixed(0), r.weights_ms.toFixed(0), r.merge_ms.toFixed(0), r.step_ms.toFixed(1), r.step_ratio_to_1.toFixed(3)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  console.log(head.map((h, i) => h.padStart(widths[i])).join('  '));
  for (const b of body) console.log(b.map((c, i) => c.padStart(widths[i])).join('  '));
}

// The train suite: a training step against a forward of the same batch, no peer (bench/train.ts).
function printTrain({ adapter, train }) {
  console.log(`\nadapter: ${adapter}   sizes: ${options.size}   training step vs forward (× fwd = step ms / forward ms; target ≤ 4)\n`);
  const head = ['op', 'model', 'step ms', 'forward ms', '× fwd', 'step: fwd part', 'recompute+bw', 'recording fwd', 'inference ms', '× infer'];
  const body = train.map((r) => [r.op, r.model, r.ours_ms.toFixed(1), r.forward_ms.toFixed(1), r.ratio_to_forward.toFixed(2), r.fwd_ms.toFixed(1), r.recompute_backward_ms.toFixed(1), r.recording_forward_ms.toFixed(1), r.inference_ms.toFixed(1), r.ratio_to_inference.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const b of body) console.log(line(b));
  for (const r of train) {
    console.log(`\n${r.op} ${r.model}: ${r.shape}\n  grads: ${r.check}`);
    if (!r.profile) continue;
    for (const phase of ['forward', 'backward']) {
      const ks = r.profile.kernels.filter((k) => k.phase === phase);
      const total = ks.reduce((s, k) => s + k.ms, 0);
      const top = ks.slice(0, 8).map((k) => `${k.kernel} ${k.ms.toFixed(1)} ms ×${k.count} (${((100 * k.ms) / total).toFixed(0)}%)`);
      console.log(`  ${phase} kernels (${total.toFixed(1)} ms, ${r.profile.method}): ${top.join(', ')}`);
    }
  }
}

function printTable({ adapter, peakGflops, rows }) {
  console.log(`\nadapter: ${adapter}   sizes: ${options.size}   f32 FMA peak ${peakGflops.toFixed(1)} GFLOP/s (measured)   (ratio = peer ms / ours ms; > 1 means we are faster)\n`);
  const head = ['op', 'model', 'variant', 'ours ms', 'GFLOP/s', '% peak', 'peer ms', 'peer % peak', 'ratio', 'max|Δ| vs peer'];
  const peerPct = (r) => (r.pctPeak * r.oursMs) / r.peerMs;
  const body = rows.map((r) => [r.op, r.model, r.variant, r.oursMs.toFixed(1), r.gflops.toFixed(2), r.pctPeak.toFixed(1), r.peerMs.toFixed(1), peerPct(r).toFixed(1), r.ratio.toFixed(2), r.maxAbsVsPeer.toExponential(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const b of body) console.log(line(b));
  const byVariant = {};
  for (const r of rows) (byVariant[`${r.op}/${r.variant}`] ??= []).push(r.ratio);
  console.log('');
  for (const [k, ratios] of Object.entries(byVariant)) {
    const g = Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length);
    console.log(`geomean ratio ${k}: ${g.toFixed(2)}x over ${ratios.length} shapes (min ${Math.min(...ratios).toFixed(2)}x)`);
  }
}
