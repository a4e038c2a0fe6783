/**
 * A scene image in the gallery (issue 13 point 5): "Scene: <name> · N regions" and "Send to Scenes",
 * which opens the scene kept with the image on the Scenes page (scenes/scene-snapshot.ts says how it
 * comes back without overwriting an edited scene). "Reuse" on such an image does the same
 * (reuseSceneImage). Images made before scenes were kept with them show their regions only.
 */
import type { GalleryRecord } from '../../storage/gallery/record';
import { useStudio } from '../store';
import { confirmDiscard } from '../scenes/ScenePanel';
import { restoreSceneSnapshot } from '../scenes/scene-store';
import { snapshotSummary } from '../scenes/scene-snapshot';
import './scene-snapshot.css';

/** Opens the image's scene on the Scenes page (after asking about unsaved changes of the open one). */
export function reuseSceneImage(r: GalleryRecord): void {
  if (!r.scene || !confirmDiscard()) return;
  void restoreSceneSnapshot(r.scene).then((ok) => ok && useStudio.getState().setSection('scenes'));
}

export function SceneSnapshot({ record }: { record: GalleryRecord }) {
  if (record.scene) {
    const { name, regions } = snapshotSummary(record.scene);
    return (
      <div className="gal-scene">
        <p className="small" data-testid="gal-scene">
          Scene: <strong>{name}</strong> · {regions} region{regions === 1 ? '' : 's'}
        </p>
        <button type="button" className="btn" data-testid="gal-send-scenes" title="Open this image's scene (regions, masks, prompts and settings) on the Scenes page" onClick={() => reuseSceneImage(record)}>
          Send to Scenes
        </button>
      </div>
    );
  }
  if (!record.sceneId) return null;
  const n = record.regions?.length ?? 0;
  return (
    <p className="small muted" data-testid="gal-scene">
      From a scene · {n} region{n === 1 ? '' : 's'} (made before images kept their scene: open it from the Scenes page's saved list if it is still there).
    </p>
  );
}
