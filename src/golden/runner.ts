/**
 * Runs every case of a golden directory (laid out like shared/golden: manifest.json, cases/, models/)
 * that the studio supports, and says SKIP with the reason for the rest. What a case is comes from its
 * manifest entry and its tensors (case-kind.ts), never from its name.
 */
import type { GpuContext } from '../gpu/context';
import type { DType } from '../gpu/tensor';
import { GoldenCase, readManifest, type ManifestCase } from './case-file';
import { GoldenEnv } from './env';
import { opCase, timestepCase } from './op-cases';
import { formatResult, type CaseResult } from './result';
import { unetForwardCase } from './unet-cases';
import { loraCase } from './lora-cases';
import { tokenizationCase } from './tokenization-case';
import { schedulerCase } from './scheduler-cases';
import { textEncodersCase } from './text-encoder-case';
import { pipelineCase } from './pipeline-cases';
import { vaeCase, vaeOpCase } from './vae-cases';
import { cidmGroupCase, type CidmSpecJson } from './training/cidm-case';
import { openGroup } from './training/group-view';
import { opBackwardCase } from './training/op-backward-runner';
import { classifyCase, type CaseKind } from './case-kind';

/** Groups of a training golden set (golden-training/): chosen by the manifest's `group`, not by name. */
const CIDM_GROUP = 'cidm';
const OPS_BACKWARD_GROUP = 'ops_backward';

/**
 * Runs one case of a kind that classifyCase gave; the case file is open. A throw becomes a FAIL line
 * in runGolden. (cidm, ops-backward and tokenization are run by runGolden itself.)
 */
export async function runClassified(env: GoldenEnv, c: GoldenCase, k: CaseKind): Promise<CaseResult[]> {
  switch (k.kind) {
    case 'unet': return unetForwardCase(env, c, k.model);
    case 'lora': return loraCase(env, c, k.model);
    case 'text-encoders': return textEncodersCase(env, c, k.models);
    case 'vae-decode': return vaeCase(env, c, k.model, 'decode');
    case 'vae-encode': return vaeCase(env, c, k.model, 'encode');
    case 'scheduler': return schedulerCase(env, c, k.scheduler);
    case 'pipeline': return pipelineCase(env, c, k.scheduler, k.model);
    case 'timestep-embedding': return timestepCase(env, c);
    case 'op': return k.network === 'vae' ? vaeOpCase(env, c, k.model, k.prefix) : opCase(env, c, k.model, k.prefix);
    case 'skip': return [{ name: c.name, status: 'SKIP', why: k.why }];
    default: return [{ name: c.name, status: 'SKIP', why: `a ${k.kind} case is run by its group, not singly` }];
  }
}

/** Opens a safetensors case, classifies it by its entry and tensors, and runs it. */
export async function runCase(env: GoldenEnv, name: string, entry: ManifestCase): Promise<CaseResult[]> {
  const c = await GoldenCase.open(env.dir, name, entry);
  try {
    return await runClassified(env, c, classifyCase(name, entry, new Set(c.names())));
  } finally {
    await c.close();
  }
}

export interface GoldenRunOptions {
  dtype: DType;
  /** Load the models' weights as packed f16 under f32 compute (GoldenEnv.packWeights). */
  packWeights?: boolean;
  /** Only cases whose name contains one of these strings. */
  filter?: string[];
  onResult?: (r: CaseResult, line: string) => void;
}

export async function runGolden(ctx: GpuContext, dir: string, o: GoldenRunOptions): Promise<CaseResult[]> {
  const manifest = readManifest(dir);
  const env = new GoldenEnv(ctx, dir, o.dtype, o.packWeights ?? false);
  const results: CaseResult[] = [];
  const emit = (r: CaseResult) => {
    results.push(r);
    o.onResult?.(r, formatResult(r));
  };
  const wanted = (name: string) => !o.filter?.length || o.filter.some((f) => name.includes(f));
  // A whole CIDM training step spread over the cases of one group: run once, one line per tensor.
  const stepCases = Object.entries(manifest.cases).filter(([n, e]) => e.group === CIDM_GROUP && wanted(n));
  if (stepCases.length) {
    const spec = ((manifest as unknown as { cidm_spec?: CidmSpecJson }).cidm_spec ?? {}) as CidmSpecJson;
    const g = await openGroup(dir, stepCases, spec);
    try {
      for (const r of await cidmGroupCase(ctx, o.dtype, g)) emit(r);
    } catch (err) {
      emit({ name: g.name, status: 'FAIL', why: `${(err as Error).name}: ${(err as Error).message}` });
    } finally {
      await g.close();
    }
  }
  for (const [name, entry] of Object.entries(manifest.cases)) {
    if (!wanted(name) || entry.group === CIDM_GROUP) continue;
    try {
      if (entry.group === OPS_BACKWARD_GROUP) {
        const c = await GoldenCase.open(dir, name, entry);
        try {
          for (const r of await opBackwardCase(ctx, o.dtype, c)) emit(r);
        } finally {
          await c.close();
        }
      } else if (entry.file.endsWith('.json')) {
        // a JSON case has no tensors to open: tokenizer ids, or a SKIP with the reason
        const k = classifyCase(name, entry, new Set());
        if (k.kind === 'tokenization') for (const r of await tokenizationCase(env, { name, entry })) emit(r);
        else emit({ name, status: 'SKIP', why: k.kind === 'skip' ? k.why : `a JSON case classified as ${k.kind}` });
      } else {
        for (const r of await runCase(env, name, entry)) emit(r);
      }
    } catch (err) {
      emit({ name, status: 'FAIL', why: `${(err as Error).name}: ${(err as Error).message}` });
    }
  }
  return results;
}
