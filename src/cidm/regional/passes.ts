/**
 * The passes of one regional step and how their outputs become E* (CIDM Eq. 4-5, spec §4.3, §9.3).
 *
 * One guidance scale s for the global estimate E and every region estimate E_u, as the spec writes
 * both (s = 7.5 there): a different scale for E and E_u puts a seam at every mask edge, where Eq. 5
 * hands over from one to the other. s is the run's CFG scale unless the caller sets regionGuidance,
 * which then applies to both.
 *   guided (s > 1):  passes [uncond, all, region 1..U]
 *                    E = ε_unc + s·(ε_all − ε_unc),  E_u = ε_unc + s·(ε_u − ε_unc)
 *   unguided (s ≤ 1): passes [all, region 1..U] — no unconditional pass at all
 *                    E = ε_all,  E_u = ε_u
 * With one region its own pass is the all-regions pass (same inputs), so it is not run twice.
 */
import { usesGuidance } from '../../diffusion/sdxl-conditioning';
import { aggregateRegionNoise, guide } from './noise-aggregation';

export type RegionalPass = { kind: 'uncond' } | { kind: 'all' } | { kind: 'region'; region: number };

export interface RegionalGuidance {
  /** s > 1: classifier-free guidance with scale s on E and on every E_u. */
  guided: boolean;
  scale: number;
}

/** The one scale of a regional run: regionGuidance if the caller set it, else the run's CFG scale. */
export function regionalGuidance(p: { guidanceScale: number; regionGuidance?: number }): RegionalGuidance {
  const scale = p.regionGuidance ?? p.guidanceScale;
  if (!Number.isFinite(scale)) throw new RangeError(`regional guidance scale ${scale} is not a number`);
  return { guided: usesGuidance(scale), scale };
}

/** The passes of one step, in batch order. */
export function regionalPasses(regions: number, guided: boolean): RegionalPass[] {
  if (!Number.isInteger(regions) || regions < 1) throw new RangeError(`regional step with ${regions} regions`);
  const out: RegionalPass[] = guided ? [{ kind: 'uncond' }, { kind: 'all' }] : [{ kind: 'all' }];
  if (regions > 1) for (let u = 0; u < regions; u++) out.push({ kind: 'region', region: u });
  return out;
}

/**
 * E* [C, h, w] from the UNet output of every pass ([passes, C, h, w]), the latent masks m_u [h, w] and
 * α (noise-aggregation.ts).
 */
export function combinePasses(noisePred: Float32Array, passes: readonly RegionalPass[], g: RegionalGuidance, latentMasks: readonly Float32Array[], alpha: number): Float32Array {
  const n = noisePred.length / passes.length;
  if (!Number.isInteger(n)) throw new RangeError(`regional combine: ${noisePred.length} values for ${passes.length} passes`);
  const at = (match: (p: RegionalPass) => boolean) => {
    const b = passes.findIndex(match);
    return b < 0 ? null : noisePred.subarray(b * n, (b + 1) * n);
  };
  const all = at((p) => p.kind === 'all');
  if (!all) throw new RangeError('regional combine: no all-regions pass');
  const unc = g.guided ? at((p) => p.kind === 'uncond') : null;
  if (g.guided && !unc) throw new RangeError('regional combine: guided without an unconditional pass');
  const estimate = (cond: Float32Array) => (unc ? guide(unc, cond, g.scale) : Float32Array.from(cond));
  const E = estimate(all);
  const regionE = latentMasks.map((_, u) => (latentMasks.length > 1 ? estimate(at((p) => p.kind === 'region' && p.region === u) ?? missing(u)) : E));
  return aggregateRegionNoise(E, regionE, latentMasks, alpha);
}

function missing(u: number): never {
  throw new RangeError(`regional combine: no pass for region ${u + 1}`);
}
