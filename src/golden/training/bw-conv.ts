/**
 * Per-op backward golden candidate for conv2d (src/golden/training/op-backward.ts): a case whose inputs
 * are an NCHW `input.x`, a [Cout, Cin, kh, kw] `input.weight`, an optional [Cout] `input.bias` and a
 * `input.grad_output` of the conv's output shape, with stride and padding from the case's params
 * (PyTorch's defaults, 1 and 0, when absent). It runs the forward (src/ops/conv2d.ts) and
 * dX (conv2dInputGrad), dW (conv2dWeightGrad) and db (sumBiasGrad).
 */
import type { GpuContext } from '../../gpu/context';
import { sameShape, type DType, type Tensor } from '../../gpu/tensor';
import { conv2d, conv2dOutputSize } from '../../ops/conv2d';
import { conv2dInputGrad, conv2dWeightGrad, sumBiasGrad } from '../../ops/backward/conv2d-backward';
import type { HostTensor, OpBackwardCandidate, OpBackwardCaseView } from './op-backward';

const INPUTS = new Set(['input.x', 'input.weight', 'input.bias', 'input.grad_output']);

/** A square stride/padding param: a number, or an [a, a] pair as torch's Conv2d stores it. */
function squareParam(v: unknown, fallback: number): number | null {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : null;
  if (Array.isArray(v) && v.length === 2 && v[0] === v[1] && typeof v[0] === 'number') return squareParam(v[0], fallback);
  return null;
}

interface ConvGeometry {
  x: HostTensor;
  weight: HostTensor;
  bias: HostTensor | null;
  dY: HostTensor;
  stride: number;
  padding: number;
}


/** The case read as a conv2d, or null when its content does not fit one. */
function geometry(c: OpBackwardCaseView): ConvGeometry | null {
  const x = c.tensors.get('input.x');
  const weight = c.tensors.get('input.weight');
  const dY = c.tensors.get('input.grad_output');
  const bias = c.tensors.get('input.bias') ?? null;
  if (!x || !weight || !dY || x.shape.length !== 4 || weight.shape.length !== 4 || dY.shape.length !== 4) return null;
  if ([...c.tensors.keys()].some((k) => k.startsWith('input.') && !INPUTS.has(k))) return null;
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  const [cout, wcin, kh, kw] = weight.shape as [number, number, number, number];
  const stride = squareParam(c.params.stride, 1);
  const padding = squareParam(c.params.padding, 0);
  if (wcin !== cin || stride === null || stride < 1 || padding === null) return null;
  if (bias && !sameShape(bias.shape, [cout])) return null;
  const [ho, wo] = conv2dOutputSize(h, w, kh, kw, stride, padding);
  if (ho < 1 || wo < 1 || !sameShape(dY.shape, [n, cout, ho, wo])) return null;
  const output = c.tensors.get('output');
  if (output && !sameShape(output.shape, dY.shape)) return null;
  return { x, weight, bias, dY, stride, padding };
}

export const CONV_CANDIDATES: OpBackwardCandidate[] = [
  {
    op: 'conv2d',
    accepts: (c) => geometry(c) !== null,
    async run(ctx: GpuContext, dtype: DType, c: OpBackwardCaseView): Promise<Map<string, Float32Array>> {
      const g = geometry(c);
      if (!g) throw new RangeError('conv2d candidate: the case is not a conv2d (accepts() was false)');
      const keep: Tensor[] = [];
      const up = (t: HostTensor, label: string) => {
        const u = ctx.upload(t.data, t.shape, dtype, label);
        keep.push(u);
        return u;
      };
      try {
        const x = up(g.x, 'golden x');
        const weight = up(g.weight, 'golden weight');
        const bias = g.bias ? up(g.bias, 'golden bias') : null;
        const dY = up(g.dY, 'golden grad_output');
        const geo = { stride: g.stride, padding: g.padding };
        const y = await conv2d(ctx, x, weight, { ...geo, bias });
        keep.push(y);
        const dx = await conv2dInputGrad(ctx, dY, weight, { ...geo, inputSize: [g.x.shape[2]!, g.x.shape[3]!] });
        keep.push(dx);
        const dw = await conv2dWeightGrad(ctx, x, dY, { ...geo, kernel: [g.weight.shape[2]!, g.weight.shape[3]!] });
        keep.push(dw);
        const result = new Map<string, Float32Array>([
          ['output', await ctx.read(y)],
          ['grad.x', await ctx.read(dx)],
          ['grad.weight', await ctx.read(dw)],
        ]);
        if (bias) {
          const db = await sumBiasGrad(ctx, dY);
          keep.push(db);
          result.set('grad.bias', await ctx.read(db));
        }
        return result;
      } finally {
        ctx.releaseLive(...keep);
      }
    },
  },
];
