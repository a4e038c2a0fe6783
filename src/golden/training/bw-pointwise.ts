/**
 * Per-op backward golden candidates of the pointwise family (src/golden/training/op-backward.ts),
 * chosen by a case's content alone:
 *   groupnorm, groupnorm+silu  input.{x [N, C, ...], weight [C], bias [C]}, params.num_groups (| C), [eps]
 *                              (both accept the same cases; the forward that reproduces `output` wins)
 *   layernorm                  input.{x [..., D], weight [D], bias [D]}, no num_groups, [params.eps]
 *   geglu                      input.{x [..., in], weight [2F, in], bias [2F]}, output [..., F]:
 *                              y = geglu(x Wᵀ + b); dP = gegluBackward, dX = dP W, dW = dPᵀ x, db = Σ dP
 *   softmax, silu, gelu, gelu_tanh, quick_gelu   only input.x, output of x's shape
 * Every case must also hold input.grad_output of the output's shape.
 */
import type { GpuContext } from '../../gpu/context';
import { sameShape, type DType, type Tensor } from '../../gpu/tensor';
import { gegluBackward, activationBackward, BACKWARD_ACTIVATIONS, type BackwardActivation } from '../../ops/backward/activation-backward';
import { groupNormBackward, layerNormBackward } from '../../ops/backward/norm-backward';
import { softmaxBackward } from '../../ops/backward/softmax-backward';
import { unary } from '../../ops/elementwise';
import { geglu } from '../../ops/geglu';
import { linear } from '../../ops/linear';
import { matmul } from '../../ops/matmul';
import { groupNorm, layerNorm } from '../../ops/norm';
import { softmax } from '../../ops/softmax';
import type { HostTensor, OpBackwardCandidate, OpBackwardCaseView } from './op-backward';


/**
 * The case's input tensors by short name ('x', 'weight', …) when they are exactly `names` plus
 * grad_output, and an `output` of `outShape(inputs)` with a grad_output of the same shape; else null.
 */
function inputs(c: OpBackwardCaseView, names: string[], outShape: (t: Record<string, HostTensor>) => number[] | null): Record<string, HostTensor> | null {
  const have = [...c.tensors.keys()].filter((k) => k.startsWith('input.') && k !== 'input.grad_output');
  if (have.length !== names.length || !names.every((n) => c.tensors.has(`input.${n}`))) return null;
  const t: Record<string, HostTensor> = {};
  for (const n of names) t[n] = c.tensors.get(`input.${n}`)!;
  const out = c.tensors.get('output');
  const dY = c.tensors.get('input.grad_output');
  const shape = outShape(t);
  if (!out || !dY || !shape || !sameShape(out.shape, shape) || !sameShape(dY.shape, shape)) return null;
  return t;
}

const eps = (c: OpBackwardCaseView) => (typeof c.params.eps === 'number' ? c.params.eps : 1e-5);

/** Runs `body` with an uploader whose tensors (and every tensor `body` keeps) are released after. */
async function withTensors(ctx: GpuContext, dtype: DType, body: (up: (t: HostTensor, label: string) => Tensor, keep: (t: Tensor) => Tensor) => Promise<Map<string, Float32Array>>) {
  const held: Tensor[] = [];
  const keep = (t: Tensor) => (held.push(t), t);
  try {
    return await body((t, label) => keep(ctx.upload(t.data, t.shape, dtype, `golden ${label}`)), keep);
  } finally {
    ctx.releaseLive(...held);
  }
}

async function readAll(ctx: GpuContext, named: [string, Tensor | undefined][]): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of named) if (t) out.set(name, await ctx.read(t));
  return out;
}

function groupNormInputs(c: OpBackwardCaseView) {
  const groups = c.params.num_groups;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) return null;
  const t = inputs(c, ['x', 'weight', 'bias'], ({ x, weight, bias }) => {
    const ch = x!.shape[1];
    if (x!.shape.length < 2 || ch === undefined || ch % groups !== 0) return null;
    return sameShape(weight!.shape, [ch]) && sameShape(bias!.shape, [ch]) ? x!.shape : null;
  });
  return t ? { t, groups } : null;
}

function groupNormCandidate(silu: boolean): OpBackwardCandidate {
  return {
    op: silu ? 'groupnorm+silu' : 'groupnorm',
    accepts: (c) => groupNormInputs(c) !== null,
    run: (ctx, dtype, c) =>
      withTensors(ctx, dtype, async (up, keep) => {
        const gn = groupNormInputs(c);
        if (!gn) throw new RangeError('groupnorm candidate: the case is not a GroupNorm');
        const { t, groups } = gn;
        const [x, w, b, dY] = [up(t.x!, 'x'), up(t.weight!, 'weight'), up(t.bias!, 'bias'), up(c.tensors.get('input.grad_output')!, 'dY')];
        const cfg = { groups, eps: eps(c), silu };
        const y = keep(await groupNorm(ctx, x, w, b, cfg));
        const g = await groupNormBackward(ctx, x, dY, w, b, cfg, { paramGrads: true });
        [g.dx, g.dgamma, g.dbeta].forEach((k) => k && keep(k));
        return readAll(ctx, [['output', y], ['grad.x', g.dx], ['grad.weight', g.dgamma], ['grad.bias', g.dbeta]]);
      }),
  };
}

const layerNormInputs = (c: OpBackwardCaseView) =>
  c.params.num_groups !== undefined
    ? null
    : inputs(c, ['x', 'weight', 'bias'], ({ x, weight, bias }) => {
        const d = x!.shape[x!.shape.length - 1];
        return d !== undefined && sameShape(weight!.shape, [d]) && sameShape(bias!.shape, [d]) ? x!.shape : null;
      });

const layerNormCandidate: OpBackwardCandidate = {
  op: 'layernorm',
  accepts: (c) => layerNormInputs(c) !== null,
  run: (ctx, dtype, c) =>
    withTensors(ctx, dtype, async (up, keep) => {
      const t = layerNormInputs(c);
      if (!t) throw new RangeError('layernorm candidate: the case is not a LayerNorm');
      const [x, w, b, dY] = [up(t.x!, 'x'), up(t.weight!, 'weight'), up(t.bias!, 'bias'), up(c.tensors.get('input.grad_output')!, 'dY')];
      const y = keep(await layerNorm(ctx, x, w, b, { eps: eps(c) }));
      const g = await layerNormBackward(ctx, x, dY, w, { eps: eps(c) }, { paramGrads: true });
      [g.dx, g.dgamma, g.dbeta].forEach((k) => k && keep(k));
      return readAll(ctx, [['output', y], ['grad.x', g.dx], ['grad.weight', g.dgamma], ['grad.bias', g.dbeta]]);
    }),
};

const gegluInputs = (c: OpBackwardCaseView) =>
  inputs(c, ['x', 'weight', 'bias'], ({ x, weight, bias }) => {
    const [out2, inF] = weight!.shape as [number, number];
    if (weight!.shape.length !== 2 || out2 % 2 !== 0 || x!.shape[x!.shape.length - 1] !== inF || !sameShape(bias!.shape, [out2])) return null;
    return [...x!.shape.slice(0, -1), out2 / 2];
  });

const gegluCandidate: OpBackwardCandidate = {
  op: 'geglu',
  accepts: (c) => gegluInputs(c) !== null,
  run: (ctx, dtype, c) =>
    withTensors(ctx, dtype, async (up, keep) => {
      const t = gegluInputs(c);
      if (!t) throw new RangeError('geglu candidate: the case is not a projection + GEGLU');
      const [x, w, b, dY] = [up(t.x!, 'x'), up(t.weight!, 'weight'), up(t.bias!, 'bias'), up(c.tensors.get('input.grad_output')!, 'dY')];
      const [out2, inF] = w.shape as [number, number];
      const rows = t.x!.data.length / inF;
      const h = keep(await linear(ctx, x, w, b));
      const y = keep(await geglu(ctx, h));
      const dP = keep(await gegluBackward(ctx, h, dY));
      const dP2: Tensor = { ...dP, shape: [rows, out2] };
      const dx = keep(await matmul(ctx, dP2, w)); // [rows, in]
      const dw = keep(await matmul(ctx, dP2, { ...x, shape: [rows, inF] }, { transA: true })); // [2F, in]
      const ones = up({ shape: [1, rows], data: new Float32Array(rows).fill(1) }, 'ones');
      const db = keep(await matmul(ctx, ones, dP2)); // [1, 2F]: column sums of dP
      return readAll(ctx, [['output', y], ['grad.x', dx], ['grad.weight', dw], ['grad.bias', db]]);
    }),
};

const unaryInputs = (c: OpBackwardCaseView) => inputs(c, ['x'], ({ x }) => x!.shape);

function unaryCandidate(op: string, forward: (ctx: GpuContext, x: Tensor) => Promise<Tensor>, backward: (ctx: GpuContext, x: Tensor, y: Tensor, dY: Tensor) => Promise<Tensor>): OpBackwardCandidate {
  return {
    op,
    accepts: (c) => unaryInputs(c) !== null,
    run: (ctx, dtype, c) =>
      withTensors(ctx, dtype, async (up, keep) => {
        const t = unaryInputs(c);
        if (!t) throw new RangeError(`${op} candidate: the case is not a unary op`);
        const x = up(t.x!, 'x');
        const dY = up(c.tensors.get('input.grad_output')!, 'dY');
        const y = keep(await forward(ctx, x));
        const dx = keep(await backward(ctx, x, y, dY));
        return readAll(ctx, [['output', y], ['grad.x', dx]]);
      }),
  };
}

const activationCandidate = (act: BackwardActivation) =>
  unaryCandidate(act, (ctx, x) => unary(ctx, act, x), (ctx, x, _y, dY) => activationBackward(ctx, act, x, dY));

export const POINTWISE_CANDIDATES: OpBackwardCandidate[] = [
  groupNormCandidate(false),
  groupNormCandidate(true),
  layerNormCandidate,
  gegluCandidate,
  unaryCandidate('softmax', (ctx, x) => softmax(ctx, x), (ctx, _x, y, dY) => softmaxBackward(ctx, y, dY)),
  ...BACKWARD_ACTIVATIONS.map(activationCandidate),
];
