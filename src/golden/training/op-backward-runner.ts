/**
 * Runs an `ops_backward` case of a training golden set: reads every tensor, offers the case to every
 * backward candidate (op-backward.ts), runs those that accept it, keeps the one whose forward matches
 * `output` best, and compares `output` and every `grad.*` the case holds. The op is chosen from the
 * content alone; a case no candidate accepts is a SKIP with the reason.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType } from '../../gpu/tensor';
import type { GoldenCase } from '../case-file';
import { measure, type CaseResult } from '../result';
import { ATTENTION_CANDIDATES } from './bw-attention';
import { CONV_CANDIDATES } from './bw-conv';
import { LINEAR_CANDIDATES } from './bw-linear';
import { POINTWISE_CANDIDATES } from './bw-pointwise';
import type { HostTensor, OpBackwardCandidate, OpBackwardCaseView } from './op-backward';

export const BACKWARD_CANDIDATES: readonly OpBackwardCandidate[] = [...LINEAR_CANDIDATES, ...CONV_CANDIDATES, ...ATTENTION_CANDIDATES, ...POINTWISE_CANDIDATES];

/** Per-op tolerances as the inference op cases (env.ts): f32 1e-4, f16 storage 5e-3. */
export const OP_BACKWARD_TOLERANCE: Record<DType, number> = { f32: 1e-4, f16: 5e-3 };

export async function readCaseView(c: GoldenCase): Promise<OpBackwardCaseView> {
  const tensors = new Map<string, HostTensor>();
  for (const n of c.file.names()) tensors.set(n, { shape: c.shape(n), data: await c.f32(n) });
  const params = ((c.entry as unknown as { params?: Record<string, unknown> }).params ?? {}) as Record<string, unknown>;
  return { tensors, params };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return Number.isNaN(d) ? Infinity : d / Math.max(s, 1e-30);
}

export async function opBackwardCase(ctx: GpuContext, dtype: DType, c: GoldenCase): Promise<CaseResult[]> {
  const view = await readCaseView(c);
  const accepting = BACKWARD_CANDIDATES.filter((k) => k.accepts(view));
  if (!accepting.length) return [{ name: c.name, status: 'SKIP', why: 'no backward op of the studio fits this case (its tensors and params)' }];
  const output = view.tensors.get('output');
  let best: { op: string; res: Map<string, Float32Array>; err: number } | null = null;
  for (const k of accepting) {
    const res = await k.run(ctx, dtype, view);
    const err = output && res.has('output') ? maxRel(res.get('output')!, output.data) : 0;
    if (!best || err < best.err) best = { op: k.op, res, err };
  }
  const tol = OP_BACKWARD_TOLERANCE[dtype];
  const out: CaseResult[] = [];
  for (const name of [...view.tensors.keys()].filter((n) => n === 'output' || n.startsWith('grad.')).sort()) {
    const got = best!.res.get(name);
    out.push(got ? measure(`${c.name}[${name}]`, got, view.tensors.get(name)!.data, tol) : { name: `${c.name}[${name}]`, status: 'FAIL', why: `the ${best!.op} backward does not compute ${name}` });
  }
  return out;
}
