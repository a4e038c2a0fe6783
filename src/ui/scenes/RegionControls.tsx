/**
 * The two knobs of CIDM's region noise aggregation (spec §4.3): s, the scene's guidance scale — used
 * for the global estimate E and for each region's own estimate E_u alike (Eq. 4, default 7.5; one
 * scale for both, or the mask edges show a seam) — and α, the global estimate's share inside the
 * regions (Eq. 5, default 0.1). Stored in the Generate draft, so they persist with it.
 */
import { useGenerate } from '../generate/generate-store';
import { CheckedNumber } from '../validation/CheckedNumber';
import { SCENE_RULES } from '../validation/fields';

export function RegionControls() {
  const s = useGenerate((st) => st.draft.regionGuidance);
  const alpha = useGenerate((st) => st.draft.regionAlpha);
  const set = useGenerate((st) => st.setDraft);
  return (
    <div className="sc-region-controls" role="group" aria-label="Region blending">
      <CheckedNumber
        id="sc-region-guidance"
        className="sc-field"
        labelClassName="sc-field-label"
        label="Scene guidance s"
        title="The scene's guidance scale: how strongly the picture and each region follow their prompts (Eq. 4; 1 = no guidance)"
        rule={{ ...SCENE_RULES.regionGuidance, label: 'Scene guidance s' }}
        step={0.5}
        value={s}
        onChange={(v) => set({ regionGuidance: v })}
      />
      <CheckedNumber
        id="sc-region-alpha"
        className="sc-field"
        labelClassName="sc-field-label"
        label="Global share α"
        title="Share of the whole-picture estimate inside the regions (Eq. 5): 0 = regions only, 1 = no regional effect"
        rule={{ ...SCENE_RULES.regionAlpha, label: 'Global share α' }}
        step={0.05}
        value={alpha}
        onChange={(v) => set({ regionAlpha: v })}
      />
    </div>
  );
}
