/**
 * LoRA golden cases (any name): the case's UNet with each of its LoRA files (the manifest's
 * `lora_files`), applied both fused (per call) and folded into the weights (once), at the call-time
 * scale each expected output names; both must match the reference, and the base UNet must match
 * output.sample_no_lora where the case has it.
 *
 * Which file goes with which output (plan()): an output named `output.sample_lora_scale_<s>` is every
 * file that its description in the manifest's `outputs` names (else every file) at call-time scale s;
 * another output (e.g. `output.sample_lora_effective_0.5`, a file whose alpha already halves it) is
 * the files its description names at scale 1, or the description's "scale <s>" when it states one.
 * A file no output names is reported as a SKIP with that reason, never silently left out.
 */
import { join } from 'node:path';
import type { Tensor } from '../gpu/tensor';
import { parseUNetConfig } from '../model/config';
import { loadLora } from '../model/lora/lora';
import { foldLora, packLora, releasePacked, type PackedLora } from '../ops/lora';
import { openModelFile, type GoldenCase } from './case-file';
import type { GoldenEnv } from './env';
import { measure, type CaseResult } from './result';
import { runUNetOnCase } from './unet-cases';

export interface LoraRun {
  /** The LoRA file, relative to the set. */
  file: string;
  /** The expected output tensor. */
  output: string;
  /** cross_attention_kwargs scale: multiplies every layer's alpha/rank. */
  scale: number;
}

const stem = (file: string) => file.replace(/^.*\//, '').replace(/\.safetensors$/, '');

/** Whether a description names a file by its stem as a whole word (lora_kohya is not lora_kohya_alpha2). */
function names(description: string, file: string): boolean {
  const s = stem(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w])${s}(?![\\w])`).test(description);
}

/** Which file is checked against which output at which scale (see the header). */
export function plan(files: readonly string[], outputs: readonly string[], descriptions: Readonly<Record<string, string>>): { runs: LoraRun[]; unused: string[] } {
  const runs: LoraRun[] = [];
  for (const output of outputs) {
    if (output === 'output.sample_no_lora') continue;
    // an aside in parentheses ("(== lora_kohya with scale 0.5)") states an equivalence, not what was run
    const d = (descriptions[output] ?? '').replace(/\([^)]*\)/g, ' ');
    const named = files.filter((f) => names(d, f));
    const scaleInName = /^output\.sample_lora_scale_([0-9.]+)$/.exec(output);
    if (scaleInName) {
      for (const file of named.length ? named : files) runs.push({ file, output, scale: Number(scaleInName[1]) });
      continue;
    }
    const stated = /\bscale\s*=?\s*([0-9.]+)/i.exec(d);
    for (const file of named) runs.push({ file, output, scale: stated ? Number(stated[1]) : 1 });
  }
  const unused = files.filter((f) => !runs.some((r) => r.file === f));
  return { runs, unused };
}

async function packFile(env: GoldenEnv, folder: string, file: string, scale: number): Promise<Map<Tensor, PackedLora>> {
  const unet = await env.loadedUNet(folder);
  const f = await openModelFile(env.dir, file);
  try {
    const { layers } = await loadLora(f, parseUNetConfig(env.unetConfig(folder)));
    const packed = new Map<Tensor, PackedLora>();
    for (const l of layers) {
      const weight = unet.weights.get(`${l.target}.weight`);
      if (!weight) throw new Error(`LoRA target ${l.target} has no weight in the UNet`);
      const down = env.upload(l.down, [l.rank, l.inFeatures], `${l.target}.lora_down`);
      const up = env.upload(l.up, [l.outFeatures, l.rank], `${l.target}.lora_up`);
      packed.set(weight, await packLora(env.ctx, weight, [{ down, up, scale: l.scale * scale }]));
      env.ctx.release(down, up);
    }
    return packed;
  } finally {
    await f.close();
  }
}

/** The LoRA files a case lists: `lora_files` as a map (file → description) or a list. */
function loraFiles(entry: GoldenCase['entry']): string[] {
  const lf = entry.lora_files;
  if (Array.isArray(lf)) return lf.map(String);
  if (lf && typeof lf === 'object') return Object.keys(lf);
  return [];
}

export async function loraCase(env: GoldenEnv, c: GoldenCase, folder = 'models/unet'): Promise<CaseResult[]> {
  const unet = await env.loadedUNet(folder);
  const tol = env.tol('network');
  const results: CaseResult[] = [];
  if (c.has('output.sample_no_lora')) {
    results.push(measure(`${c.name}[no_lora]`, await runUNetOnCase(env, c, await env.backend(undefined, undefined, folder), folder), await c.f32('output.sample_no_lora'), tol));
  }
  const outputs = c.names().filter((n) => n.startsWith('output.sample'));
  const descriptions = (c.entry.outputs && typeof c.entry.outputs === 'object' ? c.entry.outputs : {}) as Record<string, string>;
  const { runs, unused } = plan(loraFiles(c.entry), outputs, descriptions);
  for (const file of unused) results.push({ name: `${c.name}[${stem(file)}]`, status: 'SKIP', why: 'no expected output of the case names this LoRA file' });
  for (const run of runs) {
    const label = `${c.name}[${stem(run.file)}${run.scale === 1 ? '' : `@${run.scale}`}`;
    const expected = await c.f32(run.output);
    const packed = await packFile(env, folder, join(run.file), run.scale);
    const fused = await runUNetOnCase(env, c, await env.backend(undefined, packed, folder), folder);
    results.push(measure(`${label},fused]`, fused, expected, tol));

    const folded = new Map(unet.weights);
    const foldedTensors: Tensor[] = [];
    for (const [name, weight] of unet.weights) {
      const p = packed.get(weight);
      if (!p) continue;
      const f = await foldLora(env.ctx, weight, p);
      folded.set(name, f);
      foldedTensors.push(f);
    }
    const viaFold = await runUNetOnCase(env, c, await env.backend(folded, undefined, folder), folder);
    results.push(measure(`${label},folded]`, viaFold, expected, tol));
    results.push(measure(`${label},fused=folded]`, fused, viaFold, tol));
    for (const p of packed.values()) releasePacked(env.ctx, p);
    for (const f of foldedTensors) env.ctx.destroyTensor(f);
  }
  return results;
}
