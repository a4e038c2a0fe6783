import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIR, readSafetensors } from '../../../tests/golden-small-case';
import { ddpmAlphasCumprod, ddpmBetas, fmaF32, torchLinspaceF32 } from './ddpm-schedule';

describe('DDPM schedule, bit-exact to torch 1.13 on the CPU', () => {
  it('rounds a fused multiply-add once, also when the f64 sum lands on an f32 midpoint', () => {
    const a = 1006633 * 2 ** -23; // 25·a = 3 + 2⁻²³: exactly between the f32 values 3 and 3 + 2⁻²²
    expect(fmaF32(a, 25, 2 ** -80)).toBe(3 + 2 ** -22);
    expect(fmaF32(a, 25, -(2 ** -80))).toBe(3);
    expect(fmaF32(0.5, 3, 0.25)).toBe(1.75);
    expect(fmaF32(Math.fround(0.1), 7, Math.fround(0.2))).toBe(Math.fround(Math.fround(0.1) * 7 + Math.fround(0.2)));
  });

  it('fills linspace ends and both halves', () => {
    const l = torchLinspaceF32(0.1, 0.9, 1000);
    expect(l[0]).toBe(Math.fround(0.1));
    expect(l[999]).toBe(Math.fround(0.9));
    for (let i = 1; i < 1000; i++) expect(l[i]).toBeGreaterThan(l[i - 1]!);
    expect(torchLinspaceF32(2, 3, 1)).toEqual(Float32Array.from([2]));
    expect(ddpmBetas({ num_train_timesteps: 10, beta_start: 1e-4, beta_end: 2e-2, beta_schedule: 'linear' })[9]).toBe(Math.fround(2e-2));
    expect(() => ddpmBetas({ num_train_timesteps: 10, beta_start: 1e-4, beta_end: 2e-2, beta_schedule: 'squaredcos_cap_v2' })).toThrow(RangeError);
  });

  it('reproduces every alphas_cumprod of the golden scheduler cases bit for bit', () => {
    const manifest = JSON.parse(readFileSync(`${GOLDEN_DIR}manifest.json`, 'utf8')) as { cases: Record<string, { file: string; tensors?: Record<string, unknown> }> };
    const config = JSON.parse(readFileSync(`${GOLDEN_DIR}models/scheduler/scheduler_config.json`, 'utf8')) as Parameters<typeof ddpmAlphasCumprod>[0];
    const ours = ddpmAlphasCumprod(config);
    const cases = Object.values(manifest.cases).filter((c) => c.tensors && 'alphas_cumprod' in c.tensors);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const ref = readSafetensors(c.file).get('alphas_cumprod')!.data;
      expect(ref.length).toBe(config.num_train_timesteps);
      let differ = 0;
      for (let t = 0; t < ref.length; t++) if (ours[t] !== ref[t]) differ++;
      expect(differ, c.file).toBe(0);
    }
  });
});
