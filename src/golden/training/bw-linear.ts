/**
 * Per-op backward golden candidates for torch.nn.Linear and the LoRA linear of the training step
 * (src/model/autograd/trainable.ts): y = x·Wᵀ + b (+ α·(x·Dᵀ)·Uᵀ). A case fits when it has input.x
 * [..., in], input.weight [out, in] (and input.lora_down [r, in] / input.lora_up [out, r] for LoRA) and
 * a grad_output [..., out]. dW and db of the plain linear are computed for the golden only (training
 * never needs them: the base weights are frozen).
 */
import type { GpuContext } from '../../gpu/context';
import { numel, sameShape, type DType, type Tensor } from '../../gpu/tensor';
import { add } from '../../ops/elementwise';
import { linear } from '../../ops/linear';
import { matmul } from '../../ops/matmul';
import { sumBiasGrad } from '../../ops/backward/conv2d-backward';
import { loraLinearBackward } from '../../model/autograd/trainable';
import { zeros } from '../../model/autograd/tape';
import type { HostTensor, OpBackwardCandidate, OpBackwardCaseView } from './op-backward';


function fits(c: OpBackwardCaseView, lora: boolean): boolean {
  const x = c.tensors.get('input.x');
  const w = c.tensors.get('input.weight');
  const dY = c.tensors.get('input.grad_output');
  if (!x || !w || !dY || w.shape.length !== 2) return false;
  const [out, inF] = w.shape as [number, number];
  if (x.shape[x.shape.length - 1] !== inF || !sameShape(dY.shape, [...x.shape.slice(0, -1), out])) return false;
  const down = c.tensors.get('input.lora_down');
  const up = c.tensors.get('input.lora_up');
  if (!lora) return !down && !up;
  return !!down && !!up && down.shape[1] === inF && up.shape[0] === out && up.shape[1] === down.shape[0];
}

async function run(ctx: GpuContext, dtype: DType, c: OpBackwardCaseView, lora: boolean): Promise<Map<string, Float32Array>> {
  const keep: Tensor[] = [];
  const up = (name: string) => {
    const h = c.tensors.get(name) as HostTensor;
    const t = ctx.upload(h.data, h.shape, dtype, name);
    keep.push(t);
    return t;
  };
  try {
    const w = up('input.weight');
    const [out, inF] = w.shape as [number, number];
    const xh = c.tensors.get('input.x')!;
    const rows = numel(xh.shape) / inF;
    const x = { ...up('input.x'), shape: [rows, inF] };
    const dY = { ...up('input.grad_output'), shape: [rows, out] };
    const b = c.tensors.has('input.bias') ? up('input.bias') : undefined;
    const res = new Map<string, Float32Array>();
    let y = await linear(ctx, x, w, b);
    keep.push(y);
    if (lora) {
      const down = up('input.lora_down');
      const upM = up('input.lora_up');
      const xd = await matmul(ctx, x, down, { transB: true });
      const delta = await matmul(ctx, xd, upM, { transB: true });
      keep.push(xd, delta);
      y = await add(ctx, y, delta);
      keep.push(y);
      const gradDown = await zeros(ctx, down.shape, 'f32', 'grad down');
      const gradUp = await zeros(ctx, upM.shape, 'f32', 'grad up');
      keep.push(gradDown, gradUp);
      const dx = await loraLinearBackward(ctx, x, dY, w, { down, up: upM, alpha: 1, gradDown, gradUp, gradScale: 1 }, true);
      keep.push(dx!);
      res.set('grad.x', await ctx.read(dx!));
      res.set('grad.lora_down', await ctx.read(gradDown));
      res.set('grad.lora_up', await ctx.read(gradUp));
    } else {
      const dx = await matmul(ctx, dY, w);
      const dw = await matmul(ctx, dY, x, { transA: true });
      keep.push(dx, dw);
      res.set('grad.x', await ctx.read(dx));
      res.set('grad.weight', await ctx.read(dw));
      if (b) {
        const db = await sumBiasGrad(ctx, { ...dY, shape: [rows, out, 1, 1] });
        keep.push(db);
        res.set('grad.bias', await ctx.read(db));
      }
    }
    res.set('output', await ctx.read(y));
    return res;
  } finally {
    ctx.releaseLive(...keep);
  }
}

export const LINEAR_CANDIDATES: OpBackwardCandidate[] = [
  { op: 'linear', accepts: (c) => fits(c, false), run: (ctx, dtype, c) => run(ctx, dtype, c, false) },
  { op: 'lora-linear', accepts: (c) => fits(c, true), run: (ctx, dtype, c) => run(ctx, dtype, c, true) },
];
