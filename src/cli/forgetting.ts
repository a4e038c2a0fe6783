/**
 * npm run forgetting [-- --seeds 7,8 --concepts 3 --steps 40 --amplitude 3 --lr-lora 0.01 --warmup-steps 48 --warmup-scope linears|attn2 --warmup-readout 16 --warmup-readout-every 12 --f16 --json FILE]
 * The forgetting experiment (src/cidm/forgetting/experiment.ts) on the tiny golden SDXL in Node:
 * CIDM, CIDM without consolidation and the Finetuning baseline learn the same synthetic concepts in
 * sequence on one shared warmed-up base (warmup.ts, trained once for all seeds); prints each method's
 * matrix (masked loss of concept i after task j, through EWA) and average forgetting, once per seed. Exit 0 only when, for every seed, every concept was learned and CIDM forgets
 * less than Finetuning; the JSON has every number and setting.
 */
import { writeFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { GpuContext, adapterLabel } from '../gpu';
import { loadFolderSchedule, loadFolderTokenizers, loadModelFolder } from '../golden/training/model-folder';
import { runForgettingExperiment, warmUpForgettingBase, type ForgettingMethod, type ForgettingOptions } from '../cidm/forgetting/experiment';
import { reportLines, verdictOf } from './forgetting-report';
import type { WarmupScope } from '../cidm/forgetting/warmup';

Object.assign(globalThis, globals);
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

const args = process.argv.slice(2);
const value = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const num = (name: string, def?: number) => {
  const v = value(name, '');
  if (v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new RangeError(`--${name} needs a number, got "${v}"`);
  return n;
};
const f16 = args.includes('--f16');
const dir = value('model', 'golden/models');
const json = value('json', '');
const seeds = value('seeds', value('seed', '7')).split(',').map(Number);
if (!seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new RangeError(`--seeds needs whole numbers separated by commas, got "${value('seeds', '')}"`);
const methods = value('methods', '') ? (value('methods', '').split(',') as ForgettingMethod[]) : undefined;
const base: Omit<ForgettingOptions, 'seed'> = {
  concepts: num('concepts', 3)!, steps: num('steps', 40)!, evalDraws: num('draws'), photos: num('photos'), latent: num('latent'),
  lrLora: num('lr-lora'), lrTokens: num('lr-tokens'), amplitude: num('amplitude'), loraScale: num('lora-scale'), ...(methods ? { methods } : {}),
  warmupSteps: num('warmup-steps'), warmupRank: num('warmup-rank'), warmupLr: num('warmup-lr'), warmupBatch: num('warmup-batch'), warmupReadout: num('warmup-readout'), warmupReadoutEvery: num('warmup-readout-every'),
  ...(value('warmup-scope', '') ? { warmupScope: value('warmup-scope', '') as WarmupScope } : {}),
};

const gpu = create([]) as unknown as GPU;
const ctx = await GpuContext.create(gpu, f16 ? { requiredFeatures: ['shader-f16'] } : {});
const adapter = adapterLabel(ctx.handle.summary);
console.log(`# adapter ${adapter}, ${f16 ? 'f16 storage / f32 math' : 'f32'}; seeds ${seeds.join(', ')}; ${base.concepts} concepts × ${base.steps} steps`);
const model = await loadModelFolder(ctx, dir, f16 ? 'f16' : 'f32');
const tokenizers = loadFolderTokenizers(dir, model.encoders.length);
const schedule = loadFolderSchedule(dir);
const t0 = performance.now();
// One warmed base for every seed (the experiment's "pretrained model"; warmup.ts).
const warm = await warmUpForgettingBase(ctx, model, tokenizers, schedule, { ...base, onLog: (l) => console.log(`  ${l}`) });
const runs = [];
for (const seed of seeds) {
  const r = await runForgettingExperiment(ctx, model, tokenizers, schedule, { ...base, seed, onLog: (l) => console.log(`  [seed ${seed}] ${l}`) }, warm);
  runs.push({ ...r, verdict: verdictOf(r) });
  console.log(reportLines(r).join('\n'));
}
warm.release();
const ok = runs.every((r) => r.verdict.ok);
const secs = (performance.now() - t0) / 1000;
console.log(`\n${ok ? 'PASS' : 'FAIL'}: ${runs.map((r) => `seed ${r.settings.seed}: CIDM ${r.verdict.cidm.toFixed(4)} vs Finetuning ${r.verdict.finetune.toFixed(4)}`).join('; ')} (${secs.toFixed(0)} s)`);
if (json) writeFileSync(json, JSON.stringify({ adapter, dtype: f16 ? 'f16' : 'f32', seconds: secs, pass: ok, runs }, null, 2));
model.destroy();
ctx.destroy();
process.exit(ok ? 0 : 1);
