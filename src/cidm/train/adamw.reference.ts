/**
 * Plain-TS AdamW step that rounds to f32 after every torch operation (torch 1.13 single-tensor path,
 * see src/cidm/train/adamw.ts): the reference for the GPU kernel and a check on the scalars' order.
 */
import type { AdamWScalars } from './adamw';

const f = Math.fround;

export interface AdamWState {
  param: Float32Array;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

/** Returns the new state (the inputs are not modified). */
export function adamwReference(state: AdamWState, grad: Float32Array, s: AdamWScalars, invGradScale = 1): AdamWState {
  const n = grad.length;
  const param = new Float32Array(n);
  const expAvg = new Float32Array(n);
  const expAvgSq = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = f(grad[i]! * f(invGradScale));
    const p = f(state.param[i]! * s.decay);
    const m = f(f(state.expAvg[i]! * s.beta1) + f(s.one_minus_beta1 * g));
    const v = f(f(state.expAvgSq[i]! * s.beta2) + f(f(s.one_minus_beta2 * g) * g));
    const denom = f(f(f(Math.sqrt(v)) / s.bc2_sqrt) + s.eps);
    param[i] = f(p + f(f(s.neg_step_size * m) / denom));
    expAvg[i] = m;
    expAvgSq[i] = v;
  }
  return { param, expAvg, expAvgSq };
}
