/**
 * The multiply-add FLOPs of one UNet forward (2 per multiply-accumulate), counted by running the real
 * forward (forward.ts) on the shapes-only planning backend: convolutions, linear layers (LoRA deltas
 * included) and attention (QKᵀ and PV). Norms, activations and copies are left out, as GEMM-centred
 * FLOP counts usually do (they are < 1% of an SDXL step). The bench divides a timed step by it.
 */
import type { DType } from '../../gpu/tensor';
import { unetArch, type UNetConfigJson } from './arch';
import { runSyntheticStep, type SyntheticStepSize } from './synthetic-step';
import { PlanBackend, type PlanTensor } from './plan-backend';
import { unetWeightShapes } from './weight-shapes';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

class FlopCountingBackend extends PlanBackend {
  flops = 0;
  override conv2d(x: PlanTensor, w: PlanTensor, b: PlanTensor | null, o: { stride: 1 | 2; padding: 0 | 1 }): PlanTensor {
    const y = super.conv2d(x, w, b, o);
    // each output element: Cin·kh·kw multiply-adds
    this.flops += 2 * prod(y.shape) * prod(w.shape.slice(1));
    return y;
  }
  override linear(x: PlanTensor, w: PlanTensor): PlanTensor {
    const y = super.linear(x, w);
    this.flops += 2 * prod(y.shape) * w.shape[1]!;
    return y;
  }
  override attention(q: PlanTensor, k?: PlanTensor): PlanTensor {
    const y = super.attention(q);
    // [B, Tq, C] · [B, Tk, C]ᵀ then · [B, Tk, C]: 2 · 2·B·Tq·Tk·C, whatever the head split
    const tk = k ? k.shape[k.shape.length - 2]! : q.shape[q.shape.length - 2]!;
    this.flops += 4 * prod(q.shape) * tk;
    return y;
  }
  override attentionQkv(qkv: PlanTensor): PlanTensor {
    // self-attention on a fused [B, T, 3C] (fused-qkv.ts): the same 2 · 2·B·T·T·C as three operands
    const y = super.attentionQkv(qkv);
    this.flops += 4 * prod(y.shape) * y.shape[y.shape.length - 2]!;
    return y;
  }
}

/** FLOPs of one forward of `config` at an image size and batch. */
export async function countUNetStepFlops(config: UNetConfigJson, o: SyntheticStepSize, dtype: DType = 'f16'): Promise<number> {
  const arch = unetArch(config);
  const be = new FlopCountingBackend(unetWeightShapes(arch), dtype, dtype);
  const { out, inputs } = await runSyntheticStep<PlanTensor>(be, arch, o, (shape, label) => be.input(shape, label));
  be.release(out, ...inputs);
  return be.flops;
}
