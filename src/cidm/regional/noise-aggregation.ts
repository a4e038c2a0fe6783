/**
 * Region noise estimation and aggregation (CIDM Eq. 4-5, spec §4.3, in the spec's corrected form).
 *
 *   E   = ε_unc + s·(ε_all − ε_unc)       the pass with regional attention for every region (CFG)
 *   E_u = ε_unc + s_r·(ε_u − ε_unc)       the pass with only region u (Eq. 4)
 *
 * Eq. 5 as printed, E* = α·E + Σ_u (1−α)·E_u ⊙ m_u, scales the noise outside every region by α = 0.1,
 * which would wreck sampling (spec §4.3, §8 item 9). The spec's corrected reading for binary masks,
 *   E* = E ⊙ (1 − m_any) + [α·E + (1−α)·Σ_u m_u ⊙ E_u / max(1, Σ_u m_u)] ⊙ m_any,
 * generalised to soft masks with the same weights as the regional attention (masks.ts header),
 * c_u = m_u / max(1, Σ_v m_v), is
 *   E* = E + (1 − α)·Σ_u c_u·(E_u − E).
 * Both agree for binary masks (Σ_u c_u = m_any). Written as a correction of E, so that E* = E exactly
 * where every mask is 0, where α = 1, or where every E_u = E (no rounding from re-weighting E).
 */

/** Default blend (spec §4.3: α = 0.1, s = 7.5). */
export const DEFAULT_REGION_ALPHA = 0.1;
export const DEFAULT_REGION_GUIDANCE = 7.5;

/** uncond + s·(cond − uncond) elementwise. */
export function guide(uncond: Float32Array, cond: Float32Array, scale: number): Float32Array {
  if (uncond.length !== cond.length) throw new RangeError(`guidance: ${uncond.length} vs ${cond.length} values`);
  const out = new Float32Array(uncond.length);
  for (let i = 0; i < out.length; i++) out[i] = uncond[i]! + scale * (cond[i]! - uncond[i]!);
  return out;
}

/**
 * E* from the global estimate E [C, h, w], the region estimates E_u [C, h, w] and the latent masks
 * m_u [h, w] (broadcast over the C channels).
 */
export function aggregateRegionNoise(E: Float32Array, regionE: readonly Float32Array[], masks: readonly Float32Array[], alpha: number): Float32Array {
  if (regionE.length !== masks.length) throw new RangeError(`${regionE.length} region estimates for ${masks.length} masks`);
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`region alpha ${alpha} is not in [0, 1]`);
  const out = Float32Array.from(E);
  const U = masks.length;
  if (U === 0) return out;
  const hw = masks[0]!.length;
  const channels = E.length / hw;
  if (!Number.isInteger(channels) || masks.some((m) => m.length !== hw) || regionE.some((e) => e.length !== E.length)) {
    throw new RangeError(`noise aggregation: E has ${E.length} values, masks ${masks.map((m) => m.length)}, estimates ${regionE.map((e) => e.length)}`);
  }
  const c = new Float64Array(U);
  for (let p = 0; p < hw; p++) {
    let total = 0;
    for (let u = 0; u < U; u++) total += masks[u]![p]!;
    if (total === 0) continue; // outside every region: E itself
    for (let u = 0; u < U; u++) c[u] = (1 - alpha) * (masks[u]![p]! / Math.max(1, total));
    for (let ch = 0; ch < channels; ch++) {
      const i = ch * hw + p;
      const e = E[i]!;
      let d = 0;
      for (let u = 0; u < U; u++) d += c[u]! * (regionE[u]![i]! - e);
      out[i] = e + d;
    }
  }
  return out;
}
