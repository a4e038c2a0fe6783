/**
 * The whole post-UNet part of a sampling step in one dispatch (shaders/sampler_step.wgsl): CFG, the
 * scheduler's linear update, the next UNet input and the latent preview, so that the latents never
 * leave the GPU between steps (the coefficients come from src/diffusion/schedulers/linear-step.ts;
 * src/ops sits above src/diffusion, so this op takes plain numbers).
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/sampler_step.wgsl?raw';

const WG = 64;
const FLAG = { hist: 1, keep: 2, noise: 4, preview: 8, guided: 16 } as const;

export interface SamplerStepCoefficients {
  /** CFG scale g (guided = u + g(c − u)); null: pred holds one prediction, used as is. */
  guidance: number | null;
  x: number;
  out: number;
  /** Coefficient of `hist` (0: not read). */
  hist: number;
  /** Coefficient of `noise` (0: not read). */
  noise: number;
  /** hist' = keep.x·x + keep.out·guided (absent: hist is not written). */
  keep?: { x: number; out: number };
  /** The next UNet input is x'·inScale (scale_model_input at the next step's sigma). */
  inScale: number;
  /** Preview x̂₀ = preview.x·x + preview.out·guided, mapped by `previewRgb` (absent: no preview). */
  preview?: { x: number; out: number };
}

/** The latent → RGB fit of the preview: 4 rows of [r, g, b] and a bias (latent-preview.ts). */
export interface PreviewRgb {
  rows: readonly (readonly [number, number, number])[];
  bias: readonly [number, number, number];
}

export interface SamplerStepTensors {
  /** Latents [C, h, w] f32, updated in place. */
  x: Tensor;
  /** UNet output [rows, C, h, w] (rows 2 with CFG: uncond, cond). */
  pred: Tensor;
  /** Kept tensor [C, h, w] f32 (DPM++ 2M's previous x̂₀). */
  hist: Tensor;
  /** This step's noise [C, h, w] f32. */
  noise: Tensor;
  /** Next UNet input [rows, C, h, w], any row count. */
  sample: Tensor;
  /** Where the guided prediction is written when `recordGuided` (golden comparisons). */
  guided: Tensor;
  /** RGBA8 preview, one u32 per latent pixel ([h, w] of f32 storage, bit patterns). */
  preview: Tensor;
}

interface Variant {
  pred: DType;
  sample: DType;
}

export const samplerStepKernel: KernelDescriptor<Variant> = {
  name: 'sampler_step',
  source,
  defines: (v) => ({ P_T: v.pred, S_T: v.sample, F16: v.pred === 'f16' || v.sample === 'f16' }),
  constants: () => ({ WG }),
};

const pad4 = (v: readonly number[]) => [v[0] ?? 0, v[1] ?? 0, v[2] ?? 0, 0];

export async function samplerStep(ctx: GpuContext, t: SamplerStepTensors, c: SamplerStepCoefficients, rgb: PreviewRgb, o: { recordGuided?: boolean } = {}): Promise<void> {
  const [C, h, w] = t.x.shape.length === 4 ? t.x.shape.slice(1) : t.x.shape;
  if (C === undefined || h === undefined || w === undefined) throw new RangeError(`sampler step: latents must be [C, h, w], got [${t.x.shape.join(', ')}]`);
  const n = C * h * w;
  const predRows = c.guidance === null ? 1 : 2;
  if (numel(t.pred.shape) < predRows * n) throw new RangeError(`sampler step: pred [${t.pred.shape.join(', ')}] holds fewer than ${predRows}×${n} values`);
  const rows = numel(t.sample.shape) / n;
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`sampler step: sample [${t.sample.shape.join(', ')}] is not whole rows of ${n}`);
  if (t.x.dtype !== 'f32' || t.hist.dtype !== 'f32' || t.noise.dtype !== 'f32') throw new RangeError('sampler step: latents, hist and noise are f32');
  if (!ctx.hasF16 && (t.pred.dtype === 'f16' || t.sample.dtype === 'f16')) throw new FeatureMissingError('shader-f16', 'sampler step on f16 UNet tensors');
  if (c.preview && C < 4) throw new RangeError(`sampler step: the preview maps 4 latent channels, the model has ${C}`);
  const flags = (c.hist ? FLAG.hist : 0) | (c.keep ? FLAG.keep : 0) | (c.noise ? FLAG.noise : 0) | (c.preview ? FLAG.preview : 0) | (o.recordGuided ? FLAG.guided : 0);
  const k = await ctx.kernel(samplerStepKernel, { pred: t.pred.dtype, sample: t.sample.dtype });
  ctx.dispatch(k, {
    uniforms: {
      plane: h * w,
      channels: C,
      rows,
      cond_offset: c.guidance === null ? 0 : n,
      flags,
      guidance: c.guidance ?? 1,
      step_x: c.x,
      step_out: c.out,
      step_hist: c.hist,
      step_noise: c.noise,
      keep_x: c.keep?.x ?? 0,
      keep_out: c.keep?.out ?? 0,
      in_scale: c.inScale,
      preview_x: c.preview?.x ?? 0,
      preview_out: c.preview?.out ?? 0,
      rgb_bias: pad4(rgb.bias),
      rgb_0: pad4(rgb.rows[0] ?? []),
      rgb_1: pad4(rgb.rows[1] ?? []),
      rgb_2: pad4(rgb.rows[2] ?? []),
      rgb_3: pad4(rgb.rows[3] ?? []),
    },
    bindings: [binding(t.x), binding(t.pred), binding(t.hist), binding(t.noise), binding(t.sample), binding(t.guided), binding(t.preview)],
    workgroups: grid1d(h * w, WG),
  });
}

/** Plain-TS reference: the same step on host arrays; returns what the kernel writes. */
export function samplerStepReference(
  dims: { C: number; h: number; w: number; rows: number },
  x: Float32Array,
  pred: Float32Array,
  hist: Float32Array,
  noise: Float32Array,
  c: SamplerStepCoefficients,
  rgb: PreviewRgb,
): { x: Float32Array; hist: Float32Array; sample: Float32Array; guided: Float32Array; preview: Uint8ClampedArray | null } {
  const { C, h, w, rows } = dims;
  const plane = h * w;
  const n = C * plane;
  const guided = Float32Array.from({ length: n }, (_, i) => (c.guidance === null ? pred[i]! : pred[i]! + c.guidance * (pred[n + i]! - pred[i]!)));
  const next = Float32Array.from({ length: n }, (_, i) => c.x * x[i]! + c.out * guided[i]! + (c.hist ? c.hist * hist[i]! : 0) + (c.noise ? c.noise * noise[i]! : 0));
  const keep = c.keep;
  const kept = keep ? Float32Array.from({ length: n }, (_, i) => keep.x * x[i]! + keep.out * guided[i]!) : hist.slice();
  const sample = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) sample[r * n + i] = next[i]! * c.inScale;
  let preview: Uint8ClampedArray | null = null;
  const pv = c.preview;
  if (pv) {
    preview = new Uint8ClampedArray(plane * 4);
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < 3; ch++) {
        let v = rgb.bias[ch]!;
        for (let k = 0; k < 4; k++) v += (pv.x * x[k * plane + p]! + pv.out * guided[k * plane + p]!) * rgb.rows[k]![ch]!;
        preview[p * 4 + ch] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
      }
      preview[p * 4 + 3] = 255;
    }
  }
  return { x: next, hist: kept, sample, guided, preview };
}
