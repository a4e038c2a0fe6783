import { describe, expect, it } from 'vitest';
import { ADAMW_DEFAULTS, adamwScalars } from './adamw';
import { adamwReference } from './adamw.reference';
import { FLAT_ALIGN, FlatLayout } from './flat-params';

const f = Math.fround;

describe('AdamW scalars and reference (torch 1.13 single-tensor path)', () => {
  it('computes the bias corrections in f64 and rounds each scalar once to f32', () => {
    const s = adamwScalars(ADAMW_DEFAULTS, 1e-4, 0.01, 1);
    expect(s.decay).toBe(f(1 - 1e-4 * 0.01));
    expect(s.neg_step_size).toBe(f(-(1e-4 / (1 - 0.9))));
    expect(s.bc2_sqrt).toBe(f(Math.sqrt(1 - 0.999)));
    expect(s.eps).toBe(f(1e-8));
    const s10 = adamwScalars(ADAMW_DEFAULTS, 1e-3, 0.01, 10);
    expect(s10.neg_step_size).toBe(f(-(1e-3 / (1 - 0.9 ** 10))));
    expect(s10.bc2_sqrt).toBe(f(Math.sqrt(1 - 0.999 ** 10)));
    expect(() => adamwScalars(ADAMW_DEFAULTS, 1e-3, 0.01, 0)).toThrow(RangeError);
  });

  it('reproduces the README step-1 formula p·(1 − lr·wd) − lr/(1−β1)·m/(sqrt(v)/sqrt(1−β2) + eps)', () => {
    const lr = 1e-3;
    const wd = 0.01;
    const p = Float32Array.from([0.5, -0.25, 1.5, 0]);
    const g = Float32Array.from([0.1, -2e-3, 1e-9, 0]);
    const out = adamwReference({ param: p, expAvg: new Float32Array(4), expAvgSq: new Float32Array(4) }, g, adamwScalars(ADAMW_DEFAULTS, lr, wd, 1));
    for (let i = 0; i < 4; i++) {
      const m = 0.1 * g[i]!;
      const v = 0.001 * g[i]! ** 2;
      const want = p[i]! * (1 - lr * wd) - (lr / 0.1) * m / (Math.sqrt(v) / Math.sqrt(0.001) + 1e-8);
      // a few f32 roundings of each value: within 3e-7 relative
      const near = (got: number, ref: number) => expect(Math.abs(got - ref), `${got} vs ${ref}`).toBeLessThanOrEqual(3e-7 * Math.abs(ref) + 1e-30);
      near(out.param[i]!, want);
      near(out.expAvg[i]!, m);
      near(out.expAvgSq[i]!, v);
    }
  });

  it('lays tensors out at 64-element (256-byte) offsets', () => {
    const l = new FlatLayout([{ name: 'a', shape: [37, 3] }, { name: 'b', shape: [5] }, { name: 'c', shape: [64] }]);
    expect(l.entry('a')).toMatchObject({ offset: 0, numel: 111 });
    expect(l.entry('b').offset).toBe(128);
    expect(l.entry('c').offset).toBe(128 + FLAT_ALIGN);
    expect(l.size).toBe(256);
    expect(() => l.entry('d')).toThrow(RangeError);
    expect(() => new FlatLayout([{ name: 'a', shape: [1] }, { name: 'a', shape: [2] }])).toThrow(RangeError);
  });
});
