/** The scene itself: name, output size, global prompt and negative prompt, its own run settings; save, new, generate. */
import { ConceptPrompt } from '../concepts/prompt/ConceptPrompt';
import { draftSizesFor, presetsFor } from '../generate/sizes';
import { useModelSizes } from '../models/model-sizes';
import { useLatentFactor } from '../generate/latent-factor';
import { SceneRunFields } from './SceneRunFields';
import { ModelField } from '../models/ModelChoice';
import { useStudio } from '../store';

import type { Scene } from './editor/scene';
import { sceneGenerationInput, type SceneGenerationInput } from './editor/regions';
import { isDirty, newScene, resizeCurrentScene, saveCurrentScene, setSceneFields, useScenes } from './scene-store';

export interface ScenePanelProps {
  onGenerate?: (input: SceneGenerationInput, scene: Scene) => void;
  generateDisabled?: boolean;
}

export function confirmDiscard(): boolean {
  return !isDirty(useScenes.getState()) || window.confirm('This scene has unsaved changes. Discard them?');
}

export function ScenePanel({ onGenerate, generateDisabled }: ScenePanelProps) {
  const scene = useScenes((s) => s.doc.scene);
  const dirty = useScenes(isDirty);
  const busy = useScenes((s) => s.busy);
  const modelId = useStudio((s) => s.activeModelId);
  const modelName = useStudio((s) => s.models.find((m) => m.id === s.activeModelId)?.name ?? null);
  const { sizes: modelSizes } = useModelSizes(modelId);
  const latentFactor = useLatentFactor(modelId);
  const sizeKey = `${scene.width}x${scene.height}`;
  // the model's aspect presets at its native side, plus quick low-resolution drafts (layout tries)
  const all = [...presetsFor(modelSizes, latentFactor), ...draftSizesFor(modelSizes)].filter((b, i, list) => list.findIndex((o) => o.width === b.width && o.height === b.height) === i);
  const sizes = all.some((b) => `${b.width}x${b.height}` === sizeKey) ? all : [...all, { label: 'custom', width: scene.width, height: scene.height }];
  return (
    <section className="card sc-card" aria-label="Scene">
      <div className="sc-card-head">
        <h2 className="card-title">Scene</h2>
        <span className={`sc-save-state small${dirty ? ' is-dirty' : ''}`} data-testid="sc-save-state">{dirty ? 'Unsaved changes' : 'Saved'}</span>
      </div>
      {/* the model a scene's Generate uses (issue 13, point 4) */}
      {onGenerate && <ModelField idPrefix="sc" />}
      <label className="sc-field">
        <span className="sc-field-label">Name</span>
        <input type="text" value={scene.name} aria-label="Scene name" data-testid="sc-name" onChange={(e) => setSceneFields({ name: e.target.value })} />
      </label>
      <label className="sc-field">
        <span className="sc-field-label">Output size</span>
        <select
          value={sizeKey}
          aria-label="Output size"
          data-testid="sc-size"
          onChange={(e) => {
            const [w, h] = e.target.value.split('x').map(Number);
            if (w && h) resizeCurrentScene(w, h);
          }}
        >
          {sizes.map((b) => (
            <option key={`${b.width}x${b.height}`} value={`${b.width}x${b.height}`}>
              {b.width} × {b.height} ({b.label})
            </option>
          ))}
        </select>
      </label>
      <label className="sc-field">
        <span className="sc-field-label">Scene prompt</span>
        <ConceptPrompt rows={2} value={scene.globalPrompt} placeholder="The whole picture: setting, light, style (< for concepts)" aria-label="Scene prompt" data-testid="sc-global-prompt" onChange={(globalPrompt) => setSceneFields({ globalPrompt })} />
      </label>
      <label className="sc-field">
        <span className="sc-field-label">Scene negative prompt</span>
        <textarea rows={1} value={scene.globalNegative} aria-label="Scene negative prompt" data-testid="sc-global-negative" onChange={(e) => setSceneFields({ globalNegative: e.target.value })} />
      </label>
      {onGenerate && <SceneRunFields />}
      <div className="sc-actions">
        {/* the page's main action first (it queues behind a running job; the run shows below) */}
        {onGenerate && (
          <button type="button" className="btn btn-primary" disabled={busy || generateDisabled} data-testid="sc-generate" onClick={() => onGenerate(sceneGenerationInput(scene), scene)}>
            Generate
          </button>
        )}
        <button type="button" className={onGenerate ? 'btn' : 'btn btn-primary'} disabled={busy} data-testid="sc-save" onClick={() => void saveCurrentScene()}>
          Save scene
        </button>
        <button type="button" className="btn" disabled={busy} data-testid="sc-new" onClick={() => confirmDiscard() && newScene()}>
          New scene
        </button>
      </div>
      {onGenerate && (
        <p className="small muted" data-testid="sc-model">
          {modelName ? `Generates with ${modelName}.` : 'No model to generate with yet (see Model above).'}
        </p>
      )}
    </section>
  );
}
