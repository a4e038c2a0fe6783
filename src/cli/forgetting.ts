/**
 * npm run forgetting [-- --concepts 3 --steps 12 --f16 --json FILE]
 * The forgetting experiment (src/cidm/forgetting/experiment.ts) on the tiny golden SDXL in Node:
 * CIDM, CIDM without consolidation and the Finetuning baseline learn the same synthetic concepts in
 * sequence; prints each method's matrix (masked loss of concept i after task j, through EWA) and average
 * forgetting. Exit 1 unless CIDM forgets less than Finetuning.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { GpuContext, adapterLabel } from '../gpu';
import { ClipTokenizer } from '../model/tokenizer/clip-bpe';
import { loadModelFolder } from '../golden/training/model-folder';
import { runForgettingExperiment } from '../cidm/forgetting/experiment';
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
const json = value('json', '');
const opts = { concepts: Number(value('concepts', '3')), steps: Number(value('steps', '12')), seed: Number(value('seed', '7')), evalDraws: Number(value('draws', '2')) };

const gpu = create([]) as unknown as GPU;
const ctx = await GpuContext.create(gpu, f16 ? { requiredFeatures: ['shader-f16'] } : {});
console.log(`# adapter ${adapterLabel(ctx.handle.summary)}, ${f16 ? 'f16 storage / f32 math' : 'f32'}; ${opts.concepts} concepts × ${opts.steps} steps`);
const model = await loadModelFolder(ctx, dir, f16 ? 'f16' : 'f32');
const tok = (sub: string) => {
  const r = (f: string) => readFileSync(join(dir, sub, f), 'utf8');
  return ClipTokenizer.fromFiles(r('vocab.json'), r('merges.txt'), ClipTokenizer.configFromJson(r('tokenizer_config.json')));
};
const tokenizers = ['tokenizer', 'tokenizer_2'].slice(0, model.encoders.length).map(tok);
const schedule = JSON.parse(readFileSync(join(dir, 'scheduler/scheduler_config.json'), 'utf8')) as NoiseScheduleConfig;
const t0 = performance.now();
const results = await runForgettingExperiment(ctx, model, tokenizers, schedule, { ...opts, onLog: (l) => console.log(`  ${l}`) });
for (const r of results) {
  console.log(`\n${r.method}: loss of concept i (rows) after task j (columns)`);
  for (const [i, row] of r.loss.entries()) console.log(`  concept ${i + 1}: ${row.map((v) => (v === null ? '   —   ' : v.toFixed(4))).join('  ')}`);
  console.log(`  forgetting ${r.forgetting.map((f) => f.toFixed(4)).join(', ')}; average ${r.averageForgetting.toFixed(4)}; final mean loss ${r.finalMeanLoss.toFixed(4)}`);
}
const of = (m: string) => results.find((r) => r.method === m);
const ok = (of('cidm')?.averageForgetting ?? Infinity) < (of('finetune')?.averageForgetting ?? -Infinity);
console.log(`\n${ok ? 'PASS' : 'FAIL'}: CIDM average forgetting ${of('cidm')?.averageForgetting.toFixed(4)} vs Finetuning ${of('finetune')?.averageForgetting.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
if (json) writeFileSync(json, JSON.stringify({ adapter: adapterLabel(ctx.handle.summary), dtype: f16 ? 'f16' : 'f32', options: opts, results }, null, 2));
model.destroy();
ctx.destroy();
process.exit(ok ? 0 : 1);
