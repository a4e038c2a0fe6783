/**
 * The two knobs of CIDM's region noise aggregation (spec §4.3), under plain names with the paper's
 * symbols in the tooltip: "CFG scale" is s, the scene's guidance scale — used for the global
 * estimate E and for each region's own estimate E_u alike (Eq. 4; one scale for both, or the mask
 * edges show a seam) — and "Whole-picture share" is α, the global estimate's share inside the regions
 * (Eq. 5, default 0.1). Both belong to the scene (scene-run.ts).
 */
import { CheckedNumber } from '../validation/CheckedNumber';
import { SCENE_RUN_RULES, type SceneRunSettings } from './scene-run';
import { setSceneRun } from './scene-store';

/** `run`: the scene's effective run settings, as SceneRunFields has them. */
export function RegionControls({ run }: { run: SceneRunSettings }) {
  return (
    <div className="sc-region-controls" role="group" aria-label="Region blending">
      <CheckedNumber
        id="sc-region-guidance"
        className="sc-field"
        labelClassName="sc-field-label"
        label="CFG scale"
        title="How strongly the picture and each region follow their prompts (s in the CIDM paper, Eq. 4: one scale for the whole picture and every region, so no seam shows at a mask's edge; 1 = no guidance)"
        rule={SCENE_RUN_RULES.guidanceScale}
        step={0.5}
        value={run.guidanceScale}
        onChange={(v) => setSceneRun({ guidanceScale: v })}
      />
      <CheckedNumber
        id="sc-region-alpha"
        className="sc-field"
        labelClassName="sc-field-label"
        label="Whole-picture share"
        title="How much of the whole-picture prediction is mixed into each region (α in the CIDM paper, Eq. 5): 0 = regions only, 1 = no regional effect; 0.1 is the paper's"
        rule={SCENE_RUN_RULES.regionAlpha}
        step={0.05}
        value={run.regionAlpha}
        onChange={(v) => setSceneRun({ regionAlpha: v })}
      />
    </div>
  );
}
