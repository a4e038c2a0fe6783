/**
 * A scene's own run settings (issue 13 point 5): steps, sampler, CFG (s of CIDM Eq. 4, the one
 * guidance scale of the regional path), the whole-picture share (α of Eq. 5) and the seed. A scene
 * that has none yet (new, or saved before scenes had them) shows and runs with the Generate panel's
 * current values; the first edit writes the whole set into the scene, and a save stores it.
 */
import type { SceneRunSettings } from '../../storage/scenes/record';
import type { GenerateDraft } from '../generate/generate-store';
import { generateRules, SCENE_RULES, type NumberRule } from '../validation/fields';

export type { SceneRunSettings };

/** The settings a scene without its own takes: the Generate panel's steps, sampler, seed and region knobs. */
export function sceneRunDefaults(draft: Pick<GenerateDraft, 'steps' | 'scheduler' | 'seed' | 'seedLocked' | 'regionGuidance' | 'regionAlpha'>): SceneRunSettings {
  return { steps: draft.steps, scheduler: draft.scheduler, guidanceScale: draft.regionGuidance, regionAlpha: draft.regionAlpha, seed: draft.seed, seedLocked: draft.seedLocked };
}

/** The settings a scene runs with: its own, else the defaults. */
export function effectiveRun(scene: { run?: SceneRunSettings }, draft: Parameters<typeof sceneRunDefaults>[0]): SceneRunSettings {
  return scene.run ?? sceneRunDefaults(draft);
}

/** The rules of the scene's number fields: the Generate form's (steps, seed) and the regional ones. */
export const SCENE_RUN_RULES: Record<'steps' | 'seed' | 'guidanceScale' | 'regionAlpha', NumberRule> = {
  steps: generateRules(8).steps,
  seed: generateRules(8).seed,
  guidanceScale: { ...SCENE_RULES.regionGuidance, label: 'CFG scale' },
  regionAlpha: SCENE_RULES.regionAlpha,
};

/** The seed a run uses: the scene's when locked, else `random()` (the scene itself keeps its setting). */
export function runSeed(run: SceneRunSettings, random: () => number): number {
  return run.seedLocked ? run.seed : random();
}
