/** Saved scenes (IndexedDB, last saved first): open or delete. */
import { useEffect } from 'react';
import { deleteSavedScene, loadSceneList, openSavedScene, useScenes } from './scene-store';
import { confirmDiscard } from './ScenePanel';

export function SceneList() {
  const saved = useScenes((s) => s.saved);
  const loaded = useScenes((s) => s.savedLoaded);
  const unreadable = useScenes((s) => s.unreadable);
  const currentId = useScenes((s) => s.doc.scene.id);
  const busy = useScenes((s) => s.busy);
  useEffect(() => {
    if (!useScenes.getState().savedLoaded) void loadSceneList();
  }, []);
  return (
    <section className="card sc-card" aria-label="Saved scenes">
      <h2 className="card-title">Saved scenes</h2>
      {!loaded && <p className="muted small">Reading…</p>}
      {loaded && saved.length === 0 && <p className="muted small" data-testid="sc-saved-empty">No saved scenes yet.</p>}
      {unreadable.length > 0 && <p className="small sc-warn">{unreadable.length} saved scene(s) could not be read (saved by a newer studio, or damaged).</p>}
      <ul className="sc-saved" data-testid="sc-saved">
        {saved.map((s) => (
          <li key={s.id} className={`sc-saved-item${s.id === currentId ? ' is-current' : ''}`} data-testid="sc-saved-item" data-scene-id={s.id}>
            <div className="sc-saved-text">
              <span className="sc-saved-name">{s.name || 'Untitled scene'}</span>
              <span className="muted small">
                {s.width}×{s.height} · {s.layerCount} region{s.layerCount === 1 ? '' : 's'} · {new Date(s.updatedAt).toLocaleString()}
              </span>
            </div>
            <button type="button" className="btn sc-btn-sm" disabled={busy} aria-label={`Open ${s.name}`} onClick={() => confirmDiscard() && void openSavedScene(s.id)}>
              Open
            </button>
            <button
              type="button"
              className="btn sc-btn-sm"
              aria-label={`Delete ${s.name}`}
              onClick={() => window.confirm(`Delete the saved scene “${s.name}”? This cannot be undone.`) && void deleteSavedScene(s.id)}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
