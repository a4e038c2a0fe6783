import { describe, expect, it } from 'vitest';
import { randomArray } from '../../../tests/numeric';
import type { AttentionProblem } from '../attention';
import { attentionReference, denseView } from '../attention.reference';
import { attentionBackwardReference } from './attention-backward.reference';

/**
 * The f64 reference is the yardstick of the GPU tests, so it is checked on its own: its forward against
 * the forward's reference, and its gradients against central finite differences of L = Σ out·dO.
 */
describe('attention backward reference', () => {
  for (const causal of [false, true]) {
    it(`matches finite differences of L = sum(out * dOut)${causal ? ' (causal, Tq > Tk)' : ''}`, () => {
      const p: AttentionProblem = { batch: 2, heads: 2, tq: 5, tk: causal ? 4 : 7, headDim: 3, scale: 0.7, causal };
      const C = p.heads * p.headDim;
      const q = Float64Array.from(randomArray(p.batch * p.tq * C, 1));
      const k = Float64Array.from(randomArray(p.batch * p.tk * C, 2));
      const v = Float64Array.from(randomArray(p.batch * p.tk * C, 3));
      const dOut = Float64Array.from(randomArray(p.batch * p.tq * C, 4));
      const r = attentionBackwardReference(p, q, k, v, dOut);
      const view = (tokens: number) => denseView(tokens, C, p.headDim);
      const fwd = attentionReference(p, { data: q, view: view(p.tq) }, { data: k, view: view(p.tk) }, { data: v, view: view(p.tk) });
      for (let i = 0; i < fwd.length; i++) expect(r.out[i]).toBeCloseTo(fwd[i]!, 12);
      const loss = () => {
        const out = attentionBackwardReference(p, q, k, v, dOut).out;
        return out.reduce((s, o, i) => s + o * dOut[i]!, 0);
      };
      const h = 1e-6;
      for (const [x, grad] of [[q, r.dq], [k, r.dk], [v, r.dv]] as const) {
        for (let i = 0; i < x.length; i += 5) {
          const x0 = x[i]!;
          x[i] = x0 + h;
          const lp = loss();
          x[i] = x0 - h;
          const lm = loss();
          x[i] = x0;
          expect(Math.abs((lp - lm) / (2 * h) - grad[i]!)).toBeLessThan(1e-8);
        }
      }
    });
  }
});
