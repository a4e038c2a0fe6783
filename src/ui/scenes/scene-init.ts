/**
 * Scenes (issue 14 point 6): the scene's reference image as the run's init image, when the person asks
 * for it, at a strength. Off by default (a reference is a guide to paint over, not an input); kept in
 * memory for the session. The image is read from the gallery when Generate is pressed.
 */
import { create } from 'zustand';
import { DEFAULT_STRENGTH } from '../../engine/edit-input';
import type { GenerateParams } from '../../engine/protocol';
import { getImage } from '../../storage/gallery/gallery-store';
import type { GalleryRecord } from '../../storage/gallery/record';
import { decodePng } from '../../storage/png/png';

export interface SceneInitState {
  use: boolean;
  strength: number;
}

export const useSceneInit = create<SceneInitState>()(() => ({ use: false, strength: DEFAULT_STRENGTH }));

/** The reference image is no longer in the gallery (deleted since it was chosen). */
export class SceneReferenceMissingError extends Error {
  override readonly name = 'SceneReferenceMissingError';
  readonly code = 'scene-reference-missing';
  constructor() {
    super('The scene’s reference image is no longer in the gallery: pick another, or turn off “Use as init image”.');
  }
}

/** initImage and strength for a scene run ({} when not asked for, or the scene has no reference). */
export async function sceneInitParams(
  referenceImageId: string | undefined,
  s: SceneInitState = useSceneInit.getState(),
  read: (id: string) => Promise<GalleryRecord | undefined> = getImage,
): Promise<Partial<GenerateParams>> {
  if (!s.use || !referenceImageId) return {};
  const record = await read(referenceImageId);
  if (!record) throw new SceneReferenceMissingError();
  const png = await decodePng(new Uint8Array(await record.png.arrayBuffer()));
  return { initImage: { width: png.width, height: png.height, rgba: new Uint8ClampedArray(png.rgba) }, strength: s.strength };
}
