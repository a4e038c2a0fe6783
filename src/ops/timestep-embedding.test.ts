import { describe, expect, it } from 'vitest';
import { linearCpu, readSafetensors, tensor } from '../../tests/golden-small-case';
import { compare, describeComparison } from '../../tests/numeric';
import {
  DIFFUSERS_DEFAULT_TIME_PROJ,
  SDXL_TIME_PROJ,
  sdxlAddEmbedInput,
  sdxlTimeIdsEmbedding,
  timestepEmbedding,
  expf32,
  timestepFrequencies,
  type TimestepEmbeddingConfig,
} from './timestep-embedding';

/** The same formula entirely in f64, as a naive JS port would compute it. */
function embeddingF64(ts: ArrayLike<number>, dim: number, c: TimestepEmbeddingConfig): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(ts.length * dim);
  for (let r = 0; r < ts.length; r++) {
    for (let i = 0; i < half; i++) {
      const arg = ts[r]! * Math.exp((-Math.log(10000) * i) / (half - c.downscaleFreqShift));
      out[r * dim + i] = c.flipSinToCos ? Math.cos(arg) : Math.sin(arg);
      out[r * dim + half + i] = c.flipSinToCos ? Math.sin(arg) : Math.cos(arg);
    }
  }
  return out;
}

describe('timestep embedding (CPU, float32 steps of diffusers get_timestep_embedding)', () => {
  const g = readSafetensors('cases/op_timestep_embedding.safetensors');
  const ts = tensor(g, 'input.timesteps').data;
  const ids = tensor(g, 'input.time_ids_flat').data;

  const cases: [string, ArrayLike<number>, number, TimestepEmbeddingConfig][] = [
    ['output.emb16', ts, 16, SDXL_TIME_PROJ],
    ['output.emb320', ts, 320, SDXL_TIME_PROJ],
    ['output.time_ids_emb16', ids, 16, SDXL_TIME_PROJ],
    ['output.time_ids_emb256', ids, 256, SDXL_TIME_PROJ],
    ['output.emb16_noflip_shift1', ts, 16, DIFFUSERS_DEFAULT_TIME_PROJ],
  ];

  for (const [name, input, dim, config] of cases) {
    it(`matches golden ${name} to 1e-6 absolute`, () => {
      const c = compare(timestepEmbedding(input, dim, config), tensor(g, name).data);
      console.log(`[timestep] ${name}: ${describeComparison(c)}`);
      expect(c.maxAbs, describeComparison(c)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('needs the float32 steps: an all-f64 computation is ~1e-4 off the reference for SDXL time_ids', () => {
    const c = compare(embeddingF64(ids, 256, SDXL_TIME_PROJ), tensor(g, 'output.time_ids_emb256').data);
    expect(c.maxAbs).toBeGreaterThan(1e-5);
    expect(c.maxAbs).toBeLessThan(2e-4);
  });

  it('emulates torch CPU expf (SLEEF, 1 ulp) over the frequency range', () => {
    let worst = 0;
    for (let i = 0; i <= 20000; i++) {
      const x = Math.fround(-10.5 + (10.5 * i) / 20000);
      const e = Math.exp(x);
      const ulp = 2 ** (Math.floor(Math.log2(e)) - 23);
      worst = Math.max(worst, Math.abs(expf32(x) - e) / ulp);
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(expf32(0)).toBe(1);
    expect(expf32(-200)).toBe(0);
  });

  it('pads an odd dim with a zero column and is [1 | 0] at t = 0', () => {
    const e = timestepEmbedding([0, 3], 7, SDXL_TIME_PROJ);
    expect(Array.from(e.subarray(0, 7))).toEqual([1, 1, 1, 0, 0, 0, 0]);
    expect(e[13]).toBe(0);
    expect(e[7]).toBeCloseTo(Math.cos(3), 6);
    expect(Array.from(timestepFrequencies(8, { flipSinToCos: true, downscaleFreqShift: 1 })).at(-1)).toBeCloseTo(1e-4, 9);
    expect(() => timestepEmbedding([1], 2, DIFFUSERS_DEFAULT_TIME_PROJ)).toThrow(RangeError);
  });

  for (const file of ['unet_forward', 'unet_forward_per_sample_t']) {
    it(`reproduces ${file}: time_proj, add_time_proj and add_embedding([text_embeds, time_embeds])`, () => {
      const u = readSafetensors(`cases/${file}.safetensors`);
      const tp = compare(timestepEmbedding(tensor(u, 'input.timestep').data, 16, SDXL_TIME_PROJ), tensor(u, 'intermediate.time_proj').data);
      expect(tp.maxAbs, describeComparison(tp)).toBeLessThanOrEqual(1e-6);
      const timeIds = tensor(u, 'input.time_ids').data;
      const text = tensor(u, 'input.text_embeds').data;
      const at = compare(sdxlTimeIdsEmbedding(timeIds, 2, 16), tensor(u, 'intermediate.add_time_proj').data);
      expect(at.maxAbs, describeComparison(at)).toBeLessThanOrEqual(1e-6);
      // add_embedding = linear_2(silu(linear_1(cat[text, time]))): checks the concatenation order.
      const w = readSafetensors('models/unet/diffusion_pytorch_model.safetensors');
      const input = sdxlAddEmbedInput(text, timeIds, 2, 16);
      expect(input.length).toBe(2 * 128);
      const h = linearCpu(input, 2, tensor(w, 'add_embedding.linear_1.weight'), tensor(w, 'add_embedding.linear_1.bias'));
      const act = h.map((v) => v / (1 + Math.exp(-v)));
      const y = linearCpu(act, 2, tensor(w, 'add_embedding.linear_2.weight'), tensor(w, 'add_embedding.linear_2.bias'));
      const ae = compare(y, tensor(u, 'intermediate.add_embedding').data);
      expect(ae.maxRel, describeComparison(ae)).toBeLessThanOrEqual(1e-5);
    });
  }
});
