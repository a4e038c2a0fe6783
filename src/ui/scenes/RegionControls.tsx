/**
 * The two knobs of CIDM's region noise aggregation (spec §4.3): s, the scene's guidance scale — used
 * for the global estimate E and for each region's own estimate E_u alike (Eq. 4, default 7.5; one
 * scale for both, or the mask edges show a seam) — and α, the global estimate's share inside the
 * regions (Eq. 5, default 0.1). Stored in the Generate draft, so they persist with it.
 */
import { useGenerate } from '../generate/generate-store';

export function RegionControls() {
  const s = useGenerate((st) => st.draft.regionGuidance);
  const alpha = useGenerate((st) => st.draft.regionAlpha);
  const set = useGenerate((st) => st.setDraft);
  return (
    <div className="sc-region-controls" role="group" aria-label="Region blending">
      <label className="sc-field" title="The scene's guidance scale: how strongly the picture and each region follow their prompts (Eq. 4; 1 = no guidance)">
        <span className="sc-field-label">Scene guidance s</span>
        <input type="number" min={1} max={30} step={0.5} value={s} data-testid="sc-region-guidance" onChange={(e) => Number.isFinite(Number(e.target.value)) && set({ regionGuidance: Number(e.target.value) })} />
      </label>
      <label className="sc-field" title="Share of the whole-picture estimate inside the regions (Eq. 5): 0 = regions only, 1 = no regional effect">
        <span className="sc-field-label">Global share α</span>
        <input type="number" min={0} max={1} step={0.05} value={alpha} data-testid="sc-region-alpha" onChange={(e) => {
          const v = Number(e.target.value);
          if (Number.isFinite(v)) set({ regionAlpha: Math.min(1, Math.max(0, v)) });
        }} />
      </label>
    </div>
  );
}
