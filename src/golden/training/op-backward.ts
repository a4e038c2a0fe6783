/**
 * Per-op backward golden cases (a training golden set's `ops_backward` group): what a case holds, and
 * the contract every backward op family implements so that the runner can choose the op from the
 * case's content alone (its tensors, their shapes, its params and its `output`), never from its name.
 *
 * A case holds `input.*` (incl. `input.grad_output` = dY), `output` (the forward) and `grad.*`
 * (dL/d input.* with L = sum(output · dY)). Several candidates may accept one case (GroupNorm with or
 * without SiLU, plain linear or GEGLU, …): the runner runs each and keeps the one whose forward
 * reproduces `output`, then compares every gradient the case has.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType } from '../../gpu/tensor';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export interface OpBackwardCaseView {
  /** Every tensor of the case by name. */
  tensors: ReadonlyMap<string, HostTensor>;
  /** The manifest entry's `params`, if any (e.g. {stride, padding}, {num_groups, eps}). */
  params: Readonly<Record<string, unknown>>;
}

export interface OpBackwardCandidate {
  /** Names the op in the runner's output, e.g. 'attention' or 'groupnorm+silu'. */
  readonly op: string;
  /** True when the case's tensors and params fit this op (content only). */
  accepts(c: OpBackwardCaseView): boolean;
  /**
   * Runs the forward and the backward on the GPU in `dtype` (inputs rounded to it on upload) and returns
   * 'output' plus every 'grad.<name>' this op computes, by the golden's tensor names.
   */
  run(ctx: GpuContext, dtype: DType, c: OpBackwardCaseView): Promise<Map<string, Float32Array>>;
}
