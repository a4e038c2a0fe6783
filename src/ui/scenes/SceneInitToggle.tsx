/** "Use the reference image as the init image" and its strength (scene-init.ts), under the reference picker. */
import { parseStrength } from '../generate/edit-params';
import { useSceneInit } from './scene-init';

export function SceneInitToggle() {
  const { use, strength } = useSceneInit();
  return (
    <div className="sc-init" role="group" aria-label="Reference as init image">
      <label className="check small">
        <input type="checkbox" checked={use} data-testid="sc-init-use" onChange={(e) => useSceneInit.setState({ use: e.target.checked })} />
        Use it as the init image
      </label>
      {use && (
        <label className="sc-field">
          <span className="sc-field-label">Strength {strength.toFixed(2)}</span>
          <input type="range" min={0} max={1} step={0.01} value={strength} aria-label="Init image strength" data-testid="sc-init-strength" onChange={(e) => { const v = parseStrength(e.target.value); if ('value' in v) useSceneInit.setState({ strength: v.value }); }} />
        </label>
      )}
      <p className="muted small">{use ? 'The regions repaint the reference: 0 keeps it, 1 ignores it.' : 'Off: the reference only guides your painting.'}</p>
    </div>
  );
}
