/**
 * regionalAttention(ctx, inputs, opts): CIDM's regional cross-attention (spec §4.2) as one kernel. For
 * every query row it computes the global prompt's attention and each region prompt's attention (softmax
 * over that prompt's own Tk keys) and combines them with the row's soft region weights:
 *   w_u = mask[b, u, t] · active[b, u],  total = Σ_u w_u
 *   out = (1 − min(1, total))·O_global + Σ_u w_u·O_u / max(1, total)
 * For binary masks this is the spec's rule (global output replaced inside a region, overlaps averaged).
 * The combination happens on the attention output, before to_out, as Mix-of-Show does.
 *
 * Layouts (dense): q [B, Tq, H·D], or [B, 1 + U, Tq, H·D] with one q per prompt (concept-aware regions:
 * each prompt's attention uses its own EWA-adapted to_q, see forward.ts regionalAttentionModule);
 * k/v [B, 1 + U, Tk, H·D], prompt 0 the global one and 1..U the
 * regions (= one to_k/to_v over all prompts' embeddings [B·(1+U), Tk, ·], so one matmul and one binding
 * serve every prompt); masks f32 [1 or B, U, Tq] at this layer's resolution (src/cidm/regional/masks.ts);
 * active f32 [B, U], 1 where batch element b uses region u, else 0.
 * Structural variants: storage dtype, vec4 lanes (head dim a multiple of 4) or scalar, rows per
 * workgroup and the head-dim / key bounds of the workgroup-memory tiles (rounded up to 16, so few
 * variants exist).
 */
import type { GpuContext } from '../gpu/context';
import type { KernelDescriptor } from '../gpu/kernel';
import { FeatureMissingError } from '../gpu/errors';
import { binding, type DType, type Tensor } from '../gpu/tensor';
import source from '../../shaders/regional_attention.wgsl?raw';

const WG = 64;
/** Workgroup memory every WebGPU device has (maxComputeWorkgroupStorageSize default). */
const WORKGROUP_BYTES = 16384;
/** Region bits share one u32 with the global pass's bit. */
export const MAX_REGIONS = 31;
/** Keys per prompt the score tile holds (77 for CLIP; two chunks of a long prompt still fit). */
export const MAX_TEXT_TOKENS = 160;

export interface RegionalAttentionVariant {
  dtype: DType;
  /** 4: vec4 loads and math (head dim % 4 = 0); 1: scalar. */
  lanes: 1 | 4;
  rows: number;
  dmax: number;
  tkmax: number;
}

export const regionalAttentionKernel: KernelDescriptor<RegionalAttentionVariant> = {
  name: 'regional-attention',
  source,
  defines: (v) => ({ DTYPE: v.dtype, LANES: v.lanes, ROWS: v.rows, DV: v.dmax / v.lanes, TKMAX: v.tkmax }),
  constants: (v) => ({ WG, G: WG / v.rows }),
};

export interface RegionalAttentionInputs {
  /** [B, Tq, H·D] shared by every prompt, or [B, 1 + U, Tq, H·D]: prompt a's queries. */
  q: Tensor;
  /** [B, 1 + U, Tk, H·D]: the global prompt's keys, then each region's. */
  k: Tensor;
  v: Tensor;
  masks: Tensor;
  active: Tensor;
}

export interface RegionalAttentionOptions {
  heads: number;
  /** Softmax scale; default 1/sqrt(head dim). */
  scale?: number;
  label?: string;
}

/** Problem size shared by the op and its reference. */
export interface RegionalAttentionProblem {
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  headDim: number;
  regions: number;
  /** 1 (one mask set for the batch) or batch. */
  maskBatch: number;
  scale: number;
  /** True when q holds one [Tq, H·D] per prompt ([B, 1 + U, Tq, H·D]). */
  perPromptQ: boolean;
}

const roundUp16 = (n: number) => Math.ceil(n / 16) * 16;

/** Rows per workgroup: 16 while the q, score and output tiles fit in 16 KiB, else fewer. */
export function planRegionalAttention(headDim: number, tk: number): { rows: number; dmax: number; tkmax: number } {
  const dmax = roundUp16(headDim);
  const tkmax = roundUp16(tk);
  const bytes = (rows: number) => 4 * rows * (2 * dmax + tkmax + 4) + 4 * (2 * WG + 1);
  let rows = 16;
  while (rows > 1 && bytes(rows) > WORKGROUP_BYTES) rows /= 2;
  // rows divides WG = 64: G = 64 / rows lanes share a row in the softmax step
  return { rows, dmax, tkmax };
}

function dims(t: Tensor, n: number, name: string): number[] {
  if (t.shape.length !== n) throw new RangeError(`regional attention: ${name} must be ${n}-D, got [${t.shape.join(', ')}]`);
  return [...t.shape];
}

/** Checks every shape against q and returns the problem size. */
export function regionalAttentionProblem(x: RegionalAttentionInputs, o: RegionalAttentionOptions): RegionalAttentionProblem {
  const perPromptQ = x.q.shape.length === 4;
  const [B, tq, C] = (perPromptQ ? [x.q.shape[0], x.q.shape[2], x.q.shape[3]] : dims(x.q, 3, 'q')) as [number, number, number];
  const heads = o.heads;
  const headDim = C / heads;
  if (!Number.isInteger(heads) || heads < 1 || !Number.isInteger(headDim)) throw new RangeError(`regional attention: ${C} channels do not split into ${heads} heads`);
  const [kb, prompts, tk, kc] = dims(x.k, 4, 'k') as [number, number, number, number];
  if (kb !== B || kc !== C || x.v.shape.join() !== x.k.shape.join()) {
    throw new RangeError(`regional attention: k/v must be [${B}, 1 + U, Tk, ${C}], got [${x.k.shape}] / [${x.v.shape}]`);
  }
  const U = prompts - 1;
  if (U < 1 || U > MAX_REGIONS) throw new RangeError(`regional attention: ${U} regions (1..${MAX_REGIONS})`);
  if (perPromptQ && x.q.shape[1] !== prompts) throw new RangeError(`regional attention: per-prompt q must be [${B}, ${prompts}, Tq, ${C}], got [${x.q.shape}]`);
  if (tk > MAX_TEXT_TOKENS) throw new RangeError(`regional attention: ${tk} text tokens (at most ${MAX_TEXT_TOKENS})`);
  const [mb, mu, mt] = dims(x.masks, 3, 'masks') as [number, number, number];
  if ((mb !== 1 && mb !== B) || mu !== U || mt !== tq) throw new RangeError(`regional attention: masks must be [1 or ${B}, ${U}, ${tq}], got [${x.masks.shape}]`);
  if (x.active.shape.join() !== [B, U].join()) throw new RangeError(`regional attention: active must be [${B}, ${U}], got [${x.active.shape}]`);
  if (x.masks.dtype !== 'f32' || x.active.dtype !== 'f32') throw new TypeError('regional attention: masks and active are f32');
  for (const t of [x.k, x.v]) {
    if (t.dtype !== x.q.dtype) throw new TypeError(`regional attention: q is ${x.q.dtype}, k/v are ${t.dtype}`);
  }
  return { batch: B, heads, tq, tk, headDim, regions: U, maskBatch: mb, scale: o.scale ?? 1 / Math.sqrt(headDim), perPromptQ };
}

export async function regionalAttention(ctx: GpuContext, x: RegionalAttentionInputs, o: RegionalAttentionOptions): Promise<Tensor> {
  const dtype = x.q.dtype;
  if (dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'f16 regional attention');
  const p = regionalAttentionProblem(x, o);
  const plan = planRegionalAttention(p.headDim, p.tk);
  const groups: [number, number, number] = [Math.ceil(p.tq / plan.rows), p.batch * p.heads, 1];
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  if (groups[0] > limit || groups[1] > limit) throw new RangeError(`regional attention: grid [${groups}] exceeds ${limit} workgroups per dimension`);
  const lanes = p.headDim % 4 === 0 ? 4 : 1;
  const kernel = await ctx.kernel(regionalAttentionKernel, { dtype, lanes, ...plan });
  const out = ctx.empty([p.batch, p.tq, p.heads * p.headDim], dtype, o.label ?? 'regional-attention-out');
  ctx.dispatch(kernel, {
    uniforms: {
      heads: p.heads,
      tq: p.tq,
      tk: p.tk,
      dim: p.headDim / lanes,
      regions: p.regions,
      mask_b: p.maskBatch === 1 ? 0 : p.regions * p.tq,
      scale: p.scale,
      q_b: (p.perPromptQ ? p.regions + 1 : 1) * p.tq * (p.heads * p.headDim / lanes),
      q_p: p.perPromptQ ? p.tq * (p.heads * p.headDim / lanes) : 0,
    },
    bindings: [x.q, x.k, x.v, x.masks, x.active, out].map(binding),
    workgroups: groups,
  });
  return out;
}
