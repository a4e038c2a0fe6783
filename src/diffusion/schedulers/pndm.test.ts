import { describe, expect, it } from 'vitest';
import { alphasCumprod, type SchedulerConfig } from './common';
import { DDIMScheduler } from './ddim';
import { PndmConfigError, PndmScheduler } from './pndm';

// runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json
const SD15: SchedulerConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  steps_offset: 1,
  set_alpha_to_one: false,
  skip_prk_steps: true,
};

/** diffusers step_plms written out for one scalar lane, straight from the paper's AB coefficients. */
function plmsReference(ts: number[], outs: number[], x0: number, stride: number): number[] {
  const ac = alphasCumprod(SD15);
  const prevSample = (x: number, t: number, p: number, e: number) => {
    const a = ac[t]!;
    const b = p >= 0 ? ac[p]! : ac[0]!;
    return Math.sqrt(b / a) * x - ((b - a) * e) / (a * Math.sqrt(1 - b) + Math.sqrt(a * (1 - a) * b));
  };
  const hist: number[] = [];
  const xs: number[] = [];
  let x = x0;
  let start = x0;
  ts.forEach((t, i) => {
    const o = outs[i]!;
    if (i === 0) {
      hist.push(o);
      start = x;
      x = prevSample(x, t, t - stride, o);
    } else if (i === 1) {
      x = prevSample(start, t + stride, t, (o + hist[0]!) / 2);
    } else {
      hist.push(o);
      const h = hist.slice(-4).reverse(); // newest first
      const e = h.length === 2 ? (3 * h[0]! - h[1]!) / 2 : h.length === 3 ? (23 * h[0]! - 16 * h[1]! + 5 * h[2]!) / 12 : (55 * h[0]! - 59 * h[1]! + 37 * h[2]! - 9 * h[3]!) / 24;
      x = prevSample(x, t, t - stride, e);
    }
    xs.push(x);
  });
  return xs;
}

describe('PNDM (PLMS, skip_prk_steps)', () => {
  it('repeats the second-highest spaced timestep: n + 1 calls', () => {
    // leading spacing, 4 steps: arange(4)·250 + 1 = [1, 251, 501, 751]; concatenate(t[:-1], t[-2:-1], t[-1:])[::-1]
    expect(new PndmScheduler(SD15, 4).timesteps).toEqual([751, 501, 501, 251, 1]);
    expect(new PndmScheduler(SD15, 1).timesteps).toEqual([1]);
  });

  it('with a constant ε lands where DDIM does (both are the same deterministic transfer)', () => {
    const eps = Float32Array.of(0.3, -1.2, 0.7);
    const xT = Float32Array.of(1.5, -0.4, 0.9);
    const p = new PndmScheduler(SD15, 6);
    let x: Float32Array = xT;
    p.timesteps.forEach((_, i) => (x = p.step(eps, i, x)));
    const d = new DDIMScheduler(SD15, 6);
    let y: Float32Array = xT;
    d.timesteps.forEach((_, i) => (y = d.step(eps, i, y)));
    for (let k = 0; k < 3; k++) expect(x[k]).toBeCloseTo(y[k]!, 4);
  });

  it('follows the PLMS recursion step by step for varying model outputs', () => {
    const steps = 7;
    const p = new PndmScheduler(SD15, steps);
    const outs = p.timesteps.map((_, i) => Math.sin(1.3 * i + 0.2));
    const ref = plmsReference(p.timesteps, outs, 0.8, Math.floor(1000 / steps));
    let x: Float32Array = Float32Array.of(0.8);
    p.timesteps.forEach((_, i) => {
      x = p.step(Float32Array.of(outs[i]!), i, x);
      expect(Math.abs(x[0]! - ref[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref[i]!)));
    });
  });

  it('refuses the Runge–Kutta warm-up by name', () => {
    expect(() => new PndmScheduler({ ...SD15, skip_prk_steps: false }, 10)).toThrow(PndmConfigError);
  });
});
