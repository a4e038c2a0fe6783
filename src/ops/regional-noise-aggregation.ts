/**
 * CIDM's region noise estimation and aggregation (Eq. 4-5, spec §4.3) on the GPU
 * (shaders/regional_noise_aggregation.wgsl): the UNet output of a regional step's passes → E*, written
 * f32 where the sampler step reads it (sampler-step.ts, preGuided), so a regional step needs no readback.
 * The host form, which this reproduces term by term, is src/cidm/regional/passes.ts combinePasses with
 * noise-aggregation.ts aggregateRegionNoise (src/ops sits below src/cidm, so this op takes the pass
 * layout as plain row numbers).
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/regional_noise_aggregation.wgsl?raw';

const WG = 256;

export const regionalNoiseAggregationKernel: KernelDescriptor<{ pred: DType }> = {
  name: 'regional_noise_aggregation',
  source,
  defines: (v) => ({ P_T: v.pred, F16: v.pred === 'f16' }),
  constants: () => ({ WG }),
};

/** Where each estimate's pass sits in the prediction rows, and the guidance and blend. */
export interface RegionalAggregation {
  /** s > 1: E and E_u are CFG estimates against the uncond row with scale `scale`; else the rows as they are. */
  guided: boolean;
  scale: number;
  /** α of Eq. 5, in [0, 1]. */
  alpha: number;
  uncondRow: number;
  allRow: number;
  /** Row of region 0's own pass (region u at regionBase + u); null: one region, whose estimate is E. */
  regionBase: number | null;
}

/**
 * Writes E* [C, h, w] (f32) into `out` from `pred` [rows, C, h, w] and the latent masks [U, h, w] (f32).
 */
export async function regionalNoiseAggregation(ctx: GpuContext, pred: Tensor, masks: Tensor, out: Tensor, a: RegionalAggregation): Promise<void> {
  const n = numel(out.shape);
  const [U, ...planeShape] = masks.shape;
  const plane = numel(planeShape);
  if (out.dtype !== 'f32' || masks.dtype !== 'f32') throw new RangeError('regional noise aggregation: masks and output are f32');
  if (U === undefined || U < 1 || plane < 1 || n % plane !== 0) throw new RangeError(`regional noise aggregation: masks [${masks.shape.join(', ')}] do not tile an output of ${n} values`);
  const rows = numel(pred.shape) / n;
  const lastRow = Math.max(a.guided ? a.uncondRow : 0, a.allRow, a.regionBase === null ? 0 : a.regionBase + U - 1);
  if (!Number.isInteger(rows) || lastRow >= rows) throw new RangeError(`regional noise aggregation: pred [${pred.shape.join(', ')}] has no row ${lastRow} of ${n} values`);
  if (a.regionBase === null && U !== 1) throw new RangeError(`regional noise aggregation: ${U} regions need their own passes`);
  if (!(a.alpha >= 0 && a.alpha <= 1)) throw new RangeError(`region alpha ${a.alpha} is not in [0, 1]`);
  if (!ctx.hasF16 && pred.dtype === 'f16') throw new FeatureMissingError('shader-f16', 'regional noise aggregation on an f16 UNet output');
  const k = await ctx.kernel(regionalNoiseAggregationKernel, { pred: pred.dtype });
  ctx.dispatch(k, {
    uniforms: {
      plane,
      n,
      regions: U,
      guided: a.guided ? 1 : 0,
      uncond_row: a.guided ? a.uncondRow : 0,
      all_row: a.allRow,
      region_base: a.regionBase ?? 0,
      region_rows: a.regionBase === null ? 0 : 1,
      scale: a.scale,
      alpha: a.alpha,
    },
    bindings: [binding(pred), binding(masks), binding(out)],
    workgroups: grid1d(n, WG),
  });
}

/** Plain-TS reference in f64 on host arrays: pred [rows·n], masks [U·plane]; returns E* (n values). */
export function regionalNoiseAggregationReference(pred: Float32Array, masks: Float32Array, regions: number, n: number, a: RegionalAggregation): Float32Array {
  const plane = masks.length / regions;
  const est = (row: number, i: number) => {
    const c = pred[row * n + i]!;
    if (!a.guided) return c;
    const u = pred[a.uncondRow * n + i]!;
    return u + a.scale * (c - u);
  };
  return Float32Array.from({ length: n }, (_, i) => {
    const p = i % plane;
    const e = est(a.allRow, i);
    let total = 0;
    for (let u = 0; u < regions; u++) total += masks[u * plane + p]!;
    if (total === 0 || a.regionBase === null) return e;
    let d = 0;
    for (let u = 0; u < regions; u++) d += (1 - a.alpha) * (masks[u * plane + p]! / Math.max(1, total)) * (est(a.regionBase + u, i) - e);
    return e + d;
  });
}
