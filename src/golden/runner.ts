/**
 * Runs every case of a golden directory (laid out like shared/golden: manifest.json, cases/, models/)
 * that the studio supports, and says SKIP with the reason for the rest.
 */
import type { GpuContext } from '../gpu/context';
import type { DType } from '../gpu/tensor';
import { GoldenCase, readManifest } from './case-file';
import { GoldenEnv } from './env';
import { OP_CASES, opCase } from './op-cases';
import { formatResult, type CaseResult } from './result';
import { unetForwardCase } from './unet-cases';
import { loraCase } from './lora-cases';
import { tokenizationCase } from './tokenization-case';
import { SCHEDULER_CASES, schedulerCase } from './scheduler-cases';
import { textEncodersCase } from './text-encoder-case';
import { pipelineCase } from './pipeline-cases';
import { VAE_CASES, vaeCase } from './vae-cases';
import { cidmGroupCase, type CidmSpecJson } from './training/cidm-case';
import { openGroup } from './training/group-view';
import { opBackwardCase } from './training/op-backward-runner';

/** Groups of a training golden set (golden-training/): chosen by the manifest's `group`, not by name. */
const CIDM_GROUP = 'cidm';
const OPS_BACKWARD_GROUP = 'ops_backward';

type Handler = (env: GoldenEnv, c: GoldenCase) => Promise<CaseResult[]>;

function handlerFor(name: string): Handler | string {
  if (OP_CASES.has(name)) return opCase;
  if (['unet_forward', 'unet_forward_odd_size', 'unet_forward_per_sample_t'].includes(name)) return unetForwardCase;
  if (name === 'unet_lora') return loraCase;
  if (VAE_CASES.has(name)) return vaeCase;
  if (name.startsWith('op_vae_') || name.startsWith('vae_')) return 'no handler for this VAE case';
  if (name === 'text_encoders') return textEncodersCase;
  if (SCHEDULER_CASES.has(name)) return schedulerCase;
  if (name.startsWith('scheduler_')) return 'no handler for this scheduler variant';
  // SDXL and SD-1.5-family pipelines alike: the model folder and its configs say which (pipeline-family.ts)
  if (name.startsWith('pipeline_')) return pipelineCase;
  return 'no handler for this case';
}

export interface GoldenRunOptions {
  dtype: DType;
  /** Only cases whose name contains one of these strings. */
  filter?: string[];
  onResult?: (r: CaseResult, line: string) => void;
}

export async function runGolden(ctx: GpuContext, dir: string, o: GoldenRunOptions): Promise<CaseResult[]> {
  const manifest = readManifest(dir);
  const env = new GoldenEnv(ctx, dir, o.dtype);
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
    if (entry.group === OPS_BACKWARD_GROUP) {
      let c: GoldenCase | null = null;
      try {
        c = await GoldenCase.open(dir, name, entry);
        for (const r of await opBackwardCase(ctx, o.dtype, c)) emit(r);
      } catch (err) {
        emit({ name, status: 'FAIL', why: `${(err as Error).name}: ${(err as Error).message}` });
      } finally {
        await c?.close();
      }
      continue;
    }
    if (name === 'tokenization') {
      // a JSON case, not a safetensors one
      for (const r of await tokenizationCase(env, { name, entry })) emit(r);
      continue;
    }
    const handler = handlerFor(name);
    if (typeof handler === 'string') {
      emit({ name, status: 'SKIP', why: handler });
      continue;
    }
    let c: GoldenCase | null = null;
    try {
      c = await GoldenCase.open(dir, name, entry);
      for (const r of await handler(env, c)) emit(r);
    } catch (err) {
      emit({ name, status: 'FAIL', why: `${(err as Error).name}: ${(err as Error).message}` });
    } finally {
      await c?.close();
    }
  }
  return results;
}
