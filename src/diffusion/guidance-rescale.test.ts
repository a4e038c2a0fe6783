// Guidance rescale φ (issue 12, point 3) against diffusers' rescale_noise_cfg
// (pipeline_stable_diffusion_xl.py): std_text = noise_pred_text.std(dim=all but batch),
// std_cfg = noise_cfg.std(...); rescaled = noise_cfg * (std_text / std_cfg);
// noise_cfg = guidance_rescale * rescaled + (1 - guidance_rescale) * noise_cfg — torch.std is the
// unbiased (n - 1) estimate. Applied after CFG only when guidance_rescale > 0.
import { describe, expect, it } from 'vitest';
import { rescaleNoiseCfg } from './guidance-rescale';
import { classifierFreeGuidance } from './sdxl-conditioning';

describe('rescale_noise_cfg', () => {
  it('a hand-worked case: std(cond)/std(guided) = 2, φ = 0.5 → 1.5 × guided', () => {
    // guided [1, 3]: mean 2, unbiased var ((-1)² + 1²)/1 = 2; cond [0, 4]: var (4 + 4)/1 = 8 → ratio √8/√2 = 2
    const out = rescaleNoiseCfg(Float32Array.from([1, 3]), Float32Array.from([0, 4]), 0.5);
    expect(Array.from(out)).toEqual([1.5, 4.5]);
  });

  it('φ = 1 gives the guided prediction with the conditional std; φ = 0 leaves it alone', () => {
    const g = Float32Array.from([0.3, -2, 5, 1.25, -0.5, 0.75]);
    const c = Float32Array.from([0.1, -0.4, 1.2, 0.3, -0.2, 0.05]);
    const sd = (x: Float32Array) => {
      const m = x.reduce((a, b) => a + b, 0) / x.length;
      return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1));
    };
    expect(sd(rescaleNoiseCfg(g, c, 1))).toBeCloseTo(sd(c), 6);
    expect(rescaleNoiseCfg(g, c, 0)).toBe(g);
  });

  it('classifierFreeGuidance(pred, s, φ) = rescale(uncond + s (cond - uncond), cond, φ); φ = 0 is plain CFG', () => {
    const u = [0.5, -1, 2, 0.25];
    const c = [1, 0.5, 1.5, -0.75];
    const pred = Float32Array.from([...u, ...c]);
    const s = 7;
    const guided = u.map((v, i) => v + s * (c[i]! - v));
    const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
    const std = (x: number[]) => Math.sqrt(x.reduce((a, b) => a + (b - mean(x)) ** 2, 0) / (x.length - 1));
    const phi = 0.7;
    const want = guided.map((g) => phi * g * (std(c) / std(guided)) + (1 - phi) * g);
    Array.from(classifierFreeGuidance(pred, s, phi)).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    Array.from(classifierFreeGuidance(pred, s)).forEach((v, i) => expect(v).toBeCloseTo(guided[i]!, 5));
  });

  it('refuses mismatched halves', () => {
    expect(() => rescaleNoiseCfg(new Float32Array(3), new Float32Array(4), 0.5)).toThrow(RangeError);
  });
});
