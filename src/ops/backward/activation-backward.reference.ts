/**
 * Plain-TS activation and GEGLU backward in f64, for the kernel tests: the analytic derivatives of
 * torch's SiLU, GELU (approximate='none' and 'tanh') and CLIP's quick_gelu, with erf from the f64
 * series of elementwise.reference.ts.
 */
import { erf64 } from '../elementwise.reference';
import type { BackwardActivation } from './activation-backward';

const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Φ(v) = (1 + erf(v/√2)) / 2 and gelu′(v) = Φ(v) + v·φ(v). */
export function geluDerivative(v: number): number {
  return 0.5 * (1 + erf64(v * Math.SQRT1_2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
}

export function activationDerivative(act: BackwardActivation, v: number): number {
  switch (act) {
    case 'silu': {
      const s = sigmoid(v);
      return s * (1 + v * (1 - s));
    }
    case 'gelu':
      return geluDerivative(v);
    case 'gelu_tanh': {
      // 0.5 v (1 + tanh u), u = √(2/π)(v + 0.044715 v³)
      const k = Math.sqrt(2 / Math.PI);
      const t = Math.tanh(k * (v + 0.044715 * v ** 3));
      return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * 0.044715 * v * v);
    }
    case 'quick_gelu': {
      const s = sigmoid(1.702 * v);
      return s + 1.702 * v * s * (1 - s);
    }
  }
}

export function activationBackwardReference(act: BackwardActivation, x: ArrayLike<number>, dY: ArrayLike<number>): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = dY[i]! * activationDerivative(act, x[i]!);
  return out;
}

/** h [rows, 2F], dY [rows, F] → dh [rows, 2F] = [dY·gelu(gate), dY·a·gelu′(gate)]. */
export function gegluBackwardReference(h: ArrayLike<number>, dY: ArrayLike<number>, rows: number, features: number): Float32Array {
  const out = new Float32Array(rows * 2 * features);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < features; j++) {
      const a = h[r * 2 * features + j]!;
      const gate = h[r * 2 * features + features + j]!;
      const d = dY[r * features + j]!;
      out[r * 2 * features + j] = d * 0.5 * gate * (1 + erf64(gate * Math.SQRT1_2));
      out[r * 2 * features + features + j] = d * a * geluDerivative(gate);
    }
  }
  return out;
}
