/**
 * A scene kept with its image in the gallery (issue 13 point 5), and how it comes back. The snapshot
 * is the scene's stored shape (storage/scenes/record.ts: masks PackBits-coded, a few KiB) with the
 * run's settings and the seed actually used, locked — so "Reuse" makes the same image again even after
 * the scene was edited or deleted.
 *
 * Restoring never overwrites work: if the saved scene of that id is still what the image was made
 * from, it opens as it is; if it was edited since, the snapshot opens as a new scene "<name>
 * (restored)" beside it (unsaved: Save keeps it); if it was deleted (or never saved), the snapshot
 * opens under its old id and name, unsaved, so Save brings it back.
 */
import type { GallerySceneSnapshot } from '../../storage/gallery/record';
import { decodeScene, encodeScene, upgradeSceneRecord, type SceneData, type SceneRunSettings } from '../../storage/scenes/record';

export function sceneSnapshot(scene: SceneData, run: SceneRunSettings, init?: { strength: number }): GallerySceneSnapshot {
  return { record: encodeScene({ ...scene, run: { ...run } }), ...(init ? { init: { strength: init.strength } } : {}) };
}

/** What the gallery says of a snapshot without decoding masks. */
export function snapshotSummary(snap: GallerySceneSnapshot): { name: string; regions: number } {
  return { name: snap.record.name, regions: snap.record.layers.length };
}

/** The scene's content in a fixed key order, without its times, seed and mask bytes (a random seed is no edit of the scene). */
function content(s: SceneData, run: SceneRunSettings | undefined): string {
  return JSON.stringify([
    s.id, s.name, s.width, s.height, s.maskWidth, s.maskHeight, s.globalPrompt, s.globalNegative, s.referenceImageId ?? null,
    run ? [run.steps, run.scheduler, run.guidanceScale, run.regionAlpha] : null,
    s.layers.map((l) => [l.id, l.name, l.color, l.prompt, l.negativePrompt, l.concepts, l.visible, l.opacity]),
  ]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether `stored` is still the scene `snap` was made from: every field and mask byte equal, times
 * and seed aside. A stored scene without run settings (saved before scenes had them) matches on the rest.
 */
export function sameScene(stored: SceneData, snap: SceneData): boolean {
  return (
    content(stored, stored.run ?? snap.run) === content(snap, snap.run) &&
    stored.layers.every((l, i) => sameBytes(l.mask, snap.layers[i]!.mask))
  );
}

export type RestoreMode = 'same' | 'copy' | 'recreated';

export interface RestorePlan {
  mode: RestoreMode;
  /** The scene to open. */
  scene: SceneData;
  /** 'same': the saved scene opens as it is, then takes the image's run settings (seed locked) as an edit. */
  run: SceneRunSettings | undefined;
}

/** How a snapshot comes back, given the saved scene of its id (undefined: deleted, or never saved). */
export function planRestore(snap: GallerySceneSnapshot, stored: SceneData | undefined, newSceneId: () => string, now: number): RestorePlan {
  const scene = decodeScene(upgradeSceneRecord(snap.record));
  if (!stored) return { mode: 'recreated', scene, run: scene.run };
  if (sameScene(stored, scene)) return { mode: 'same', scene: stored, run: scene.run };
  return { mode: 'copy', scene: { ...scene, id: newSceneId(), name: `${scene.name} (restored)`, createdAt: now, updatedAt: now }, run: scene.run };
}
