/**
 * The layers (regions), top first: colour, name, show/hide, order, delete; the selected one also
 * shows its prompt, negative prompt and display opacity. Every edit is undoable (consecutive typing
 * in one field is one step).
 */
import type { Layer } from './editor/scene';
import { maskStats } from './editor/regions';
import { ConceptPicker } from '../concepts/prompt/ConceptPicker';
import { ConceptPrompt } from '../concepts/prompt/ConceptPrompt';
import { addSceneLayer, moveSceneLayer, removeSceneLayer, selectLayer, updateSceneLayer, useScenes } from './scene-store';

function LayerRow({ layer, index, count, active }: { layer: Layer; index: number; count: number; active: boolean }) {
  const pct = (100 * maskStats(layer.mask).coverage) / layer.mask.length;
  const id = layer.id;
  return (
    <li className={`sc-layer${active ? ' is-active' : ''}`} data-testid="sc-layer" data-layer-id={id} data-active={active}>
      <div className="sc-layer-head" onPointerDown={() => !active && selectLayer(id)}>
        <input type="color" className="sc-swatch" value={layer.color} aria-label={`Colour of ${layer.name}`} onChange={(e) => updateSceneLayer(id, { color: e.target.value })} />
        <input type="text" className="sc-layer-name" value={layer.name} aria-label="Layer name" spellCheck={false} onFocus={() => selectLayer(id)} onChange={(e) => updateSceneLayer(id, { name: e.target.value })} />
        <span className="sc-layer-cov value small" title="Share of the image this region covers">{pct === 0 ? 'empty' : `${pct < 1 ? pct.toFixed(1) : Math.round(pct)}%`}</span>
        <button type="button" className={`sc-icon-btn${layer.visible ? '' : ' is-off'}`} aria-pressed={layer.visible} aria-label={layer.visible ? `Hide ${layer.name}` : `Show ${layer.name}`} title={layer.visible ? 'Hide (hidden regions are left out of a generation)' : 'Show'} onClick={() => updateSceneLayer(id, { visible: !layer.visible })}>
          {layer.visible ? '◉' : '○'}
        </button>
        <button type="button" className="sc-icon-btn" aria-label={`Move ${layer.name} up`} disabled={index === count - 1} onClick={() => moveSceneLayer(id, 1)}>↑</button>
        <button type="button" className="sc-icon-btn" aria-label={`Move ${layer.name} down`} disabled={index === 0} onClick={() => moveSceneLayer(id, -1)}>↓</button>
        <button type="button" className="sc-icon-btn sc-danger" aria-label={`Delete ${layer.name}`} onClick={() => removeSceneLayer(id)}>×</button>
      </div>
      {active && (
        <div className="sc-layer-body">
          <label className="sc-field">
            <span className="sc-field-label">Region prompt</span>
            <ConceptPrompt rows={2} value={layer.prompt} placeholder="What this region shows (< for concepts)" aria-label="Region prompt" data-testid="sc-layer-prompt" onChange={(prompt) => updateSceneLayer(id, { prompt })} />
          </label>
          {/* the concepts this region's prompt names (its own EWA weights, issue 11 point 5) */}
          <ConceptPicker prompt={layer.prompt} label="Region concepts" onChange={(prompt) => updateSceneLayer(id, { prompt })} />
          <label className="sc-field">
            <span className="sc-field-label">Negative prompt</span>
            <textarea rows={1} value={layer.negativePrompt} placeholder="What it should not" aria-label="Region negative prompt" data-testid="sc-layer-negative" onChange={(e) => updateSceneLayer(id, { negativePrompt: e.target.value })} />
          </label>
          <label className="sc-slider">
            <span>Opacity</span>
            <input type="range" min={0} max={100} value={Math.round(layer.opacity * 100)} aria-label="Layer opacity" onChange={(e) => updateSceneLayer(id, { opacity: Number(e.target.value) / 100 })} />
            <span className="value sc-slider-value">{Math.round(layer.opacity * 100)}%</span>
          </label>
        </div>
      )}
    </li>
  );
}

export function LayerPanel() {
  const layers = useScenes((s) => s.doc.scene.layers);
  const activeId = useScenes((s) => s.activeLayerId);
  return (
    <section className="card sc-card" aria-label="Layers">
      <div className="sc-card-head">
        <h2 className="card-title">Regions</h2>
        <button type="button" className="btn sc-btn-sm" data-testid="sc-layer-add" onClick={addSceneLayer}>+ Add region</button>
      </div>
      {layers.length === 0 && <p className="muted small">No regions. Add one, then paint where it goes.</p>}
      <ol className="sc-layers" data-testid="sc-layers">
        {[...layers].reverse().map((l, r) => (
          <LayerRow key={l.id} layer={l} index={layers.length - 1 - r} count={layers.length} active={l.id === activeId} />
        ))}
      </ol>
    </section>
  );
}
