/**
 * The scene's own steps, sampler, CFG, whole-picture share (RegionControls) and seed (issue 13 point 5), checked as the Generate form checks
 * them (validation/fields.ts). A scene without settings of its own shows the Generate panel's; the
 * first edit makes them the scene's (scene-run.ts).
 */
import type { SchedulerKind } from '../../diffusion/schedulers';
import { useGenerate } from '../generate/generate-store';
import { SamplerOptions } from '../generate/GenerateForm';
import { CheckedNumber } from '../validation/CheckedNumber';
import { RegionControls } from './RegionControls';
import { effectiveRun, SCENE_RUN_RULES } from './scene-run';
import { setSceneRun, useScenes } from './scene-store';

export function SceneRunFields() {
  const scene = useScenes((s) => s.doc.scene);
  const draft = useGenerate((st) => st.draft);
  const run = effectiveRun(scene, draft);
  return (
    <div className="sc-run-fields" role="group" aria-label="Run settings">
      <div className="sc-run-row">
        <CheckedNumber id="sc-steps" className="sc-field" labelClassName="sc-field-label" label="Steps" rule={SCENE_RUN_RULES.steps} value={run.steps} onChange={(v) => setSceneRun({ steps: v })} />
        <label className="sc-field">
          <span className="sc-field-label">Sampler</span>
          <select value={run.scheduler} aria-label="Sampler" data-testid="sc-sampler" onChange={(e) => setSceneRun({ scheduler: e.target.value as SchedulerKind })}>
            <SamplerOptions />
          </select>
        </label>
      </div>
      <RegionControls run={run} />
      <div className="sc-field">
        <span className="sc-field-label">Seed</span>
        <div className="sc-seed-row">
          <CheckedNumber id="sc-seed" label="Seed value" labelClassName="sr-only" className="sc-field sc-seed-value" rule={SCENE_RUN_RULES.seed} value={run.seed} onChange={(v) => setSceneRun({ seed: v, seedLocked: true })} />
          <label className="check">
            <input type="checkbox" data-testid="sc-seed-lock" checked={run.seedLocked} onChange={(e) => setSceneRun({ seedLocked: e.target.checked })} />
            Lock
          </label>
        </div>
        <span className="small muted">{run.seedLocked ? 'The same seed and scene give the same image.' : 'A new seed for every run.'}</span>
      </div>
      {!scene.run && <p className="small muted" data-testid="sc-run-from-generate">Taken from the Generate panel until you change one; saved with the scene.</p>}
    </div>
  );
}
