/**
 * Attention backward candidates for the per-op backward goldens (op-backward.ts): a case with input.q,
 * input.k, input.v and input.grad_output, all 4-D in torch's [batch, heads, tokens, head_dim] layout
 * (q and grad_output [B, H, Tq, D], k and v [B, H, Tk, D]). The studio's attention works on [B, T, H·D]
 * (heads merged, as diffusers before its head split), so the host transposes on the way in and back.
 * Two candidates, plain and top-left causal: the runner keeps the one whose forward reproduces `output`.
 * Params, when a case has them: `scale` (default 1/sqrt(D)), `causal` or `is_causal` (restricts which
 * candidate accepts).
 */
import type { GpuContext } from '../../gpu/context';
import { sameShape, type DType } from '../../gpu/tensor';
import { attentionBackward, attentionForwardWithStats } from '../../ops/backward/attention-backward';
import type { HostTensor, OpBackwardCandidate, OpBackwardCaseView } from './op-backward';

interface Dims {
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  dim: number;
}


/** The problem size if the case's tensors have the attention shapes, else null. */
function dimsOf(c: OpBackwardCaseView): Dims | null {
  const [q, k, v, dO] = ['input.q', 'input.k', 'input.v', 'input.grad_output'].map((n) => c.tensors.get(n));
  if (!q || !k || !v || !dO || q.shape.length !== 4) return null;
  const [batch, heads, tq, dim] = q.shape as [number, number, number, number];
  const tk = k.shape[2] ?? 0;
  if (!sameShape(k.shape, [batch, heads, tk, dim]) || !sameShape(v.shape, k.shape) || !sameShape(dO.shape, q.shape)) return null;
  return Math.min(batch, heads, tq, tk, dim) >= 1 ? { batch, heads, tq, tk, dim } : null;
}

/** [B, H, T, D] → [B, T, H·D] (forward = true) or back. */
function permute(x: Float32Array, batch: number, heads: number, tokens: number, dim: number, forward: boolean): Float32Array {
  const y = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < tokens; t++) {
        const bhtd = ((b * heads + h) * tokens + t) * dim;
        const bthd = ((b * tokens + t) * heads + h) * dim;
        for (let d = 0; d < dim; d++) {
          if (forward) y[bthd + d] = x[bhtd + d]!;
          else y[bhtd + d] = x[bthd + d]!;
        }
      }
    }
  }
  return y;
}

function causalParam(c: OpBackwardCaseView): boolean | undefined {
  const flag = c.params.causal ?? c.params.is_causal;
  return typeof flag === 'boolean' ? flag : undefined;
}

function candidate(causal: boolean): OpBackwardCandidate {
  return {
    op: causal ? 'attention (causal)' : 'attention',
    accepts(c) {
      if (!dimsOf(c)) return false;
      const flag = causalParam(c);
      return flag === undefined || flag === causal;
    },
    async run(ctx: GpuContext, dtype: DType, c: OpBackwardCaseView) {
      const s = dimsOf(c)!;
      const C = s.heads * s.dim;
      const up = (name: string, tokens: number) => {
        const t = c.tensors.get(name) as HostTensor;
        return ctx.upload(permute(t.data, s.batch, s.heads, tokens, s.dim, true), [s.batch, tokens, C], dtype, name);
      };
      const [q, k, v, dOut] = [up('input.q', s.tq), up('input.k', s.tk), up('input.v', s.tk), up('input.grad_output', s.tq)];
      const opts = { heads: s.heads, causal, ...(typeof c.params.scale === 'number' ? { scale: c.params.scale } : {}) };
      const { out, lse } = await attentionForwardWithStats(ctx, q, k, v, opts);
      const g = await attentionBackward(ctx, { q, k, v, out, dOut, lse }, opts);
      const back = async (name: string, t: typeof q, tokens: number): Promise<[string, Float32Array]> => [
        name,
        permute(await ctx.read(t), s.batch, s.heads, tokens, s.dim, false),
      ];
      const res = new Map([
        await back('output', out, s.tq),
        await back('grad.q', g.dq, s.tq),
        await back('grad.k', g.dk, s.tk),
        await back('grad.v', g.dv, s.tk),
      ]);
      ctx.release(q, k, v, dOut, out, lse, g.dq, g.dk, g.dv);
      return res;
    },
  };
}

export const ATTENTION_CANDIDATES: OpBackwardCandidate[] = [candidate(false), candidate(true)];
