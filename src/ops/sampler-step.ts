/**
 * The whole post-UNet part of a sampling step in one dispatch (shaders/sampler_step.wgsl): CFG, the
 * scheduler's linear update, the next UNet input and the latent preview, so that the latents never
 * leave the GPU between steps (the coefficients come from src/diffusion/schedulers/linear-step.ts;
 * src/ops sits above src/diffusion, so this op takes plain numbers). Inpainting runs here too: the
 * 4-channel blend with the noised image after the step, and the 9-channel UNet's wider sample rows
 * (their mask and masked-image channels are written once per run and left alone). With guidance rescale,
 * cfg-rescale.ts writes the guided prediction first and this step reads it (`preGuided`).
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/sampler_step.wgsl?raw';

const WG = 64;
/** History slots in `hist` (the kernel reads them as one vec4 per element; linear-step.ts HIST_SLOTS). */
export const SAMPLER_HIST_SLOTS = 4;
const FLAG = { hist: 1, keep: 2, noise: 4, preview: 8, guided: 16, blend: 32, preGuided: 64 } as const;

export interface SamplerStepCoefficients {
  /** CFG scale g (guided = u + g(c − u)); null: pred holds one prediction, used as is. */
  guidance: number | null;
  x: number;
  out: number;
  /** Coefficients of the history slots (HIST_SLOTS of them in `hist`; missing or 0: not read). */
  hist: readonly number[];
  /** Coefficient of `noise` (0: not read). */
  noise: number;
  /** Slots written after all are read: hist[slot] ← x·x + out·guided (absent: hist is not written). */
  keep?: readonly { slot: number; x: number; out: number }[];
  /** The next UNet input is x'·inScale (scale_model_input at the next step's sigma). */
  inScale: number;
  /** Preview x̂₀ = preview.x·x + preview.out·guided, mapped by `previewRgb` (absent: no preview). */
  preview?: { x: number; out: number };
  /**
   * 4-channel inpainting: x' ← (1 − m)·(signal·image + noise·ε) + m·x' with add_noise's coefficients at
   * the next timestep ({signal: 1, noise: 0} after the last step); needs the `edit` tensor.
   */
  blend?: { signal: number; noise: number };
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
  /** History slots [HIST_SLOTS, C, h, w] f32 (DPM++ 2M's previous x̂₀; PNDM's stored outputs and first sample). */
  hist: Tensor;
  /** This step's noise [C, h, w] f32. */
  noise: Tensor;
  /** Next UNet input [rows, C, h, w], any row count. */
  sample: Tensor;
  /** Where the guided prediction is written when `recordGuided` (golden comparisons). */
  guided: Tensor;
  /** RGBA8 preview, one u32 per latent pixel ([h, w] of f32 storage, bit patterns). */
  preview: Tensor;
  /** Inpainting's run constants, f32 [image latents (C·h·w) | ε (C·h·w) | latent mask (h·w)] (blend only). */
  edit?: Tensor;
}

export interface SamplerStepOptions {
  /** Also write the guided prediction to `guided` (golden comparisons). */
  recordGuided?: boolean;
  /** `guided` already holds the guided prediction (cfg-rescale.ts): read it instead of CFG on `pred`. */
  preGuided?: boolean;
  /** Channels per sample row (default C; 9 for an inpainting UNet): the step writes the first C of each. */
  sampleChannels?: number;
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

export async function samplerStep(ctx: GpuContext, t: SamplerStepTensors, c: SamplerStepCoefficients, rgb: PreviewRgb, o: SamplerStepOptions = {}): Promise<void> {
  const [C, h, w] = t.x.shape.length === 4 ? t.x.shape.slice(1) : t.x.shape;
  if (C === undefined || h === undefined || w === undefined) throw new RangeError(`sampler step: latents must be [C, h, w], got [${t.x.shape.join(', ')}]`);
  const n = C * h * w;
  const predRows = c.guidance === null ? 1 : 2;
  if (numel(t.pred.shape) < predRows * n) throw new RangeError(`sampler step: pred [${t.pred.shape.join(', ')}] holds fewer than ${predRows}×${n} values`);
  const sampleChannels = o.sampleChannels ?? C;
  if (!Number.isInteger(sampleChannels) || sampleChannels < C) throw new RangeError(`sampler step: sample rows of ${sampleChannels} channels cannot hold ${C} latent channels`);
  const rowStride = sampleChannels * h * w;
  const rows = numel(t.sample.shape) / rowStride;
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`sampler step: sample [${t.sample.shape.join(', ')}] is not whole rows of ${rowStride}`);
  if (c.blend && (!t.edit || t.edit.dtype !== 'f32' || numel(t.edit.shape) < 2 * n + h * w)) throw new RangeError(`sampler step: the inpaint blend needs an f32 edit tensor of ${2 * n + h * w} values (image latents, noise, mask)`);
  if (t.x.dtype !== 'f32' || t.hist.dtype !== 'f32' || t.noise.dtype !== 'f32') throw new RangeError('sampler step: latents, hist and noise are f32');
  if (!ctx.hasF16 && (t.pred.dtype === 'f16' || t.sample.dtype === 'f16')) throw new FeatureMissingError('shader-f16', 'sampler step on f16 UNet tensors');
  if (c.preview && C < 4) throw new RangeError(`sampler step: the preview maps 4 latent channels, the model has ${C}`);
  const keeps = c.keep ?? [];
  if (c.hist.length > SAMPLER_HIST_SLOTS || keeps.some((k) => !Number.isInteger(k.slot) || k.slot < 0 || k.slot >= SAMPLER_HIST_SLOTS)) {
    throw new RangeError(`sampler step: at most ${SAMPLER_HIST_SLOTS} history slots`);
  }
  const readsHist = c.hist.some((v) => v !== 0);
  if ((readsHist || keeps.length > 0) && numel(t.hist.shape) < SAMPLER_HIST_SLOTS * n) {
    throw new RangeError(`sampler step: hist [${t.hist.shape.join(', ')}] must hold ${SAMPLER_HIST_SLOTS} slots of ${n}`);
  }
  const slotValues = (f: (s: number) => number) => Array.from({ length: SAMPLER_HIST_SLOTS }, (_, s) => f(s));
  const keptAt = (s: number) => keeps.find((k) => k.slot === s);
  const flags = (readsHist ? FLAG.hist : 0) | (keeps.length ? FLAG.keep : 0) | (c.noise ? FLAG.noise : 0) | (c.preview ? FLAG.preview : 0) | (o.recordGuided ? FLAG.guided : 0) | (c.blend ? FLAG.blend : 0) | (o.preGuided ? FLAG.preGuided : 0);
  const k = await ctx.kernel(samplerStepKernel, { pred: t.pred.dtype, sample: t.sample.dtype });
  ctx.dispatch(k, {
    uniforms: {
      plane: h * w,
      channels: C,
      rows,
      row_stride: rowStride,
      cond_offset: c.guidance === null ? 0 : n,
      flags,
      guidance: c.guidance ?? 1,
      step_x: c.x,
      step_out: c.out,
      step_noise: c.noise,
      keep_mask: keeps.reduce((m, k) => m | (1 << k.slot), 0),
      in_scale: c.inScale,
      blend_signal: c.blend?.signal ?? 0,
      blend_noise: c.blend?.noise ?? 0,
      preview_x: c.preview?.x ?? 0,
      preview_out: c.preview?.out ?? 0,
      step_hist: slotValues((s) => c.hist[s] ?? 0),
      keep_x: slotValues((s) => keptAt(s)?.x ?? 0),
      keep_out: slotValues((s) => keptAt(s)?.out ?? 0),
      rgb_bias: pad4(rgb.bias),
      rgb_0: pad4(rgb.rows[0] ?? []),
      rgb_1: pad4(rgb.rows[1] ?? []),
      rgb_2: pad4(rgb.rows[2] ?? []),
      rgb_3: pad4(rgb.rows[3] ?? []),
    },
    bindings: [binding(t.x), binding(t.pred), binding(t.hist), binding(t.noise), binding(t.sample), binding(t.guided), binding(t.preview), binding(t.edit ?? t.noise)],
    workgroups: grid1d(h * w, WG),
  });
}

/** Plain-TS reference: the same step on host arrays; returns what the kernel writes. */
export function samplerStepReference(
  dims: { C: number; h: number; w: number; rows: number; sampleChannels?: number },
  x: Float32Array,
  pred: Float32Array,
  hist: Float32Array,
  noise: Float32Array,
  c: SamplerStepCoefficients,
  rgb: PreviewRgb,
  extra: { edit?: Float32Array; preGuided?: Float32Array; sampleBefore?: Float32Array } = {},
): { x: Float32Array; hist: Float32Array; sample: Float32Array; guided: Float32Array; preview: Uint8ClampedArray | null } {
  const { C, h, w, rows } = dims;
  const plane = h * w;
  const n = C * plane;
  const stride = (dims.sampleChannels ?? C) * plane;
  const pre = extra.preGuided;
  const guided = Float32Array.from({ length: n }, (_, i) => (pre ? pre[i]! : c.guidance === null ? pred[i]! : pred[i]! + c.guidance * (pred[n + i]! - pred[i]!)));
  const fromHist = (i: number) => c.hist.reduce((v, h, s) => v + (h ? h * hist[s * n + i]! : 0), 0);
  const stepped = Float32Array.from({ length: n }, (_, i) => c.x * x[i]! + c.out * guided[i]! + fromHist(i) + (c.noise ? c.noise * noise[i]! : 0));
  const b = c.blend;
  const e = extra.edit;
  if (b && !e) throw new RangeError('sampler step reference: the blend needs the edit values');
  // the same blend as img2img.ts inpaintBlend
  const next = b && e ? stepped.map((v, i) => (1 - e[2 * n + (i % plane)]!) * (b.signal * e[i]! + b.noise * e[n + i]!) + e[2 * n + (i % plane)]! * v) : stepped;
  const kept = hist.slice();
  for (const k of c.keep ?? []) for (let i = 0; i < n; i++) kept[k.slot * n + i] = k.x * x[i]! + k.out * guided[i]!;
  // rows wider than the latents keep their other channels (sampleBefore: what the buffer held)
  const sample = extra.sampleBefore ? extra.sampleBefore.slice() : new Float32Array(rows * stride);
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) sample[r * stride + i] = next[i]! * c.inScale;
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
