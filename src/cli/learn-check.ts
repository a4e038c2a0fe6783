/**
 * npm run learn-check [-- --steps N --f16 --seed S --json FILE]
 * Trains the tiny golden SDXL on a synthetic concept (src/cidm/train/learn-check.ts) on WebGPU in Node
 * and prints the masked denoising loss on held-out noise and timesteps before and after, and how far the
 * tokens and the LoRA moved. Exit 1 unless the loss fell by at least 20% and both moved.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { GpuContext, adapterLabel } from '../gpu';
import { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import { loadModelFolder } from '../golden/training/model-folder';
import { runLearnCheck } from '../cidm/train/learn-check';
import type { NoiseScheduleConfig } from '../cidm/train/noising';

Object.assign(globalThis, globals);
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

const args = process.argv.slice(2);
const value = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const f16 = args.includes('--f16');
const dir = value('model', 'golden/models');
const steps = Number(value('steps', '120'));
const seed = Number(value('seed', '2022'));
const json = value('json', '');

const gpu = create([]) as unknown as GPU;
const ctx = await GpuContext.create(gpu, f16 ? { requiredFeatures: ['shader-f16'] } : {});
console.log(`# adapter ${adapterLabel(ctx.handle.summary)}, ${f16 ? 'f16 storage / f32 math' : 'f32'}`);
const model = await loadModelFolder(ctx, dir, f16 ? 'f16' : 'f32');
const tok = (sub: string) => {
  const r = (f: string) => readFileSync(join(dir, sub, f), 'utf8');
  return ClipTokenizer.fromFiles(r('vocab.json'), r('merges.txt'), ClipTokenizer.configFromJson(r('tokenizer_config.json')));
};
const tokenizers = ['tokenizer', 'tokenizer_2'].slice(0, model.encoders.length).map(tok);
const schedule = JSON.parse(readFileSync(join(dir, 'scheduler/scheduler_config.json'), 'utf8')) as NoiseScheduleConfig;
const t0 = performance.now();
const r = await runLearnCheck(ctx, model, tokenizers, schedule, {
  steps,
  seed,
  onStep: (s) => {
    if (s.step % 10 === 0 || s.step === steps) console.log(`step ${s.step}/${steps} loss ${s.loss.toFixed(4)} lr ${s.lrLora.toExponential(2)}`);
  },
});
const secs = (performance.now() - t0) / 1000;
console.log(`held-out masked loss before ${r.before.toFixed(4)} after ${r.after.toFixed(4)} (fell ${(100 * r.fall).toFixed(1)}%)`);
console.log(`tokens moved ${r.tokenChange.toExponential(2)}, LoRA moved ${r.loraChange.toExponential(2)}; ${steps} steps in ${secs.toFixed(1)} s`);
if (json) writeFileSync(json, JSON.stringify({ adapter: adapterLabel(ctx.handle.summary), dtype: f16 ? "f16" : "f32", seed, ...r, seconds: secs }, null, 2));
const ok = r.fall >= 0.2 && r.tokenChange > 0 && r.loraChange > 0;
console.log(ok ? 'learn-check PASS' : 'learn-check FAIL');
model.destroy();
ctx.destroy();
process.exit(ok ? 0 : 1);
