/**
 * Checks a typed number against its field's rule and says why not, in words (issue 13, point 3). The
 * forms check as the person types and show the reason beside the field; the controller checks the
 * draft again before queuing, so a bad value (steps = 0, a size off the latent grid) never reaches
 * the engine.
 */
import { MAX_SEED } from '../../diffusion/rng';
import { MAX_SIDE, MIN_SIDE } from '../generate/sizes';

export interface NumberRule {
  /** The field's name in the sentence ("Steps"). */
  label: string;
  min: number;
  max: number;
  integer?: boolean;
  /** The value must be a multiple of this (the model's latent factor for sizes). */
  multipleOf?: number;
  /** Why the multiple (said after the reason). */
  multipleWhy?: string;
}

/** The reason `text` is not a valid value for `rule`, or null when it is. */
export function numberError(text: string, rule: NumberRule): string | null {
  const t = text.trim();
  if (t === '') return `${rule.label} needs a number.`;
  const v = Number(t);
  if (!Number.isFinite(v)) return `${rule.label} must be a number.`;
  if (rule.integer && !Number.isInteger(v)) return `${rule.label} must be a whole number.`;
  if (v < rule.min || v > rule.max) return `${rule.label} must be between ${rule.min} and ${rule.max}.`;
  if (rule.multipleOf && v % rule.multipleOf !== 0) {
    const near = Math.min(rule.max, Math.max(rule.min, Math.round(v / rule.multipleOf) * rule.multipleOf));
    return `${rule.label} must be a multiple of ${rule.multipleOf}${rule.multipleWhy ? ` (${rule.multipleWhy})` : ''}; try ${near}.`;
  }
  return null;
}

/** The rules of the Generate form; `factor`: the model's latent factor (VAE downscale, from its config). */
export function generateRules(factor: number): Record<'width' | 'height' | 'steps' | 'guidanceScale' | 'batchCount' | 'seed' | 'guidanceRescale', NumberRule> {
  const side = (label: string): NumberRule => ({ label, min: Math.max(MIN_SIDE, factor), max: MAX_SIDE, integer: true, multipleOf: factor, multipleWhy: "the model's latent factor" });
  return {
    width: side('Width'),
    height: side('Height'),
    steps: { label: 'Steps', min: 1, max: 150, integer: true },
    guidanceScale: { label: 'CFG', min: 1, max: 30 },
    batchCount: { label: 'Images', min: 1, max: 16, integer: true },
    seed: { label: 'Seed', min: 0, max: MAX_SEED, integer: true },
    guidanceRescale: { label: 'Guidance rescale', min: 0, max: 1 },
  };
}

/** The Scenes page's two region settings (spec §4.3, Eq. 4 and 5). */
export const SCENE_RULES = {
  regionGuidance: { label: 'Prompt strength', min: 1, max: 30 },
  regionAlpha: { label: 'Whole-picture share', min: 0, max: 1 },
} satisfies Record<string, NumberRule>;

/** Every broken field of a draft, field → reason (empty: the draft can run). */
export function draftErrors(draft: Record<string, unknown>, rules: Record<string, NumberRule>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, rule] of Object.entries(rules)) {
    const v = draft[field];
    const reason = numberError(typeof v === 'number' ? String(v) : '', rule);
    if (reason) out[field] = reason;
  }
  return out;
}
