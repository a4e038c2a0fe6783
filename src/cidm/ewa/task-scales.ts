/**
 * Style strength for a concept of the library (issue 14 point 4): EWA's weight of that concept, w^l_g
 * of spec §3.3, multiplied by a factor at every layer before the fold (ΔW^l = Σ_g s_g·w^l_g·B_g A_g,
 * fold.ts). A factor of 1 is the unscaled run, 0 takes the concept's LoRA out of every layer (its
 * tokens stay in the prompt). Like the LoRA weight of A1111's <lora:name:w>, the factor is the user's
 * and may exceed 1. Pure functions.
 */

/** A concept strength that is not a finite number ≥ 0. */
export class ConceptStrengthError extends RangeError {
  override readonly name = 'ConceptStrengthError';
  readonly code = 'bad-concept-strength';
}

/** The largest factor taken: beyond it a concept's delta swamps the base weights. */
export const MAX_CONCEPT_STRENGTH = 4;

/** One factor per concept in task order (1 for those not named), from strengths keyed by concept name. */
export function taskScalesFor(concepts: readonly { name: string }[], strengths: Readonly<Record<string, number>>): number[] {
  for (const [name, s] of Object.entries(strengths)) {
    if (!(Number.isFinite(s) && s >= 0 && s <= MAX_CONCEPT_STRENGTH)) throw new ConceptStrengthError(`The style strength of “${name}” must be from 0 to ${MAX_CONCEPT_STRENGTH}, got ${s}.`);
  }
  return concepts.map((c) => strengths[c.name] ?? 1);
}

/** w^l with concept g's weight times scales[g] in every layer (new arrays; the input is not written). */
export function scaleTaskWeights(layerWeights: readonly Float64Array[], scales: readonly number[] | undefined): Float64Array[] {
  if (!scales || scales.every((s) => s === 1)) return layerWeights.slice();
  return layerWeights.map((w) => {
    if (w.length !== scales.length) throw new RangeError(`EWA: ${scales.length} concept strengths for ${w.length} concepts`);
    return w.map((v, g) => v * scales[g]!);
  });
}
