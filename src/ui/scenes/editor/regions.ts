/**
 * What a generation needs from a scene (CIDM §4.3): per visible, non-empty layer its prompt, negative
 * prompt and a soft mask at the OUTPUT resolution — Float32Array height × width, row-major, 0..1
 * (alpha / 255), the RegionPrompt of src/cidm/regional/regional-step.ts. When the editing resolution
 * is smaller than the output (long side > 1024, scene.ts), the mask is upsampled bilinearly with
 * pixel centres aligned (raster.resampleToFloat); at equal sizes it is the alpha divided by 255,
 * exactly. Regions keep the layer order, bottom to top.
 */
import type { Scene } from './scene';
import { coverageCount, resampleToFloat } from './raster';

export interface SceneRegion {
  layerId: string;
  name: string;
  color: string;
  prompt: string;
  negativePrompt: string;
  concepts: string[];
  /** height × width of the OUTPUT, 0..1. */
  mask: Float32Array;
}

export interface SceneGenerationInput {
  width: number;
  height: number;
  prompt: string;
  negativePrompt: string;
  regions: SceneRegion[];
}

export function sceneToRegions(scene: Scene): SceneRegion[] {
  const out: SceneRegion[] = [];
  for (const l of scene.layers) {
    if (!l.visible || maskStats(l.mask).coverage === 0) continue;
    out.push({
      layerId: l.id,
      name: l.name,
      color: l.color,
      prompt: l.prompt,
      negativePrompt: l.negativePrompt,
      concepts: [...l.concepts],
      mask: resampleToFloat(l.mask, scene.maskWidth, scene.maskHeight, scene.width, scene.height),
    });
  }
  return out;
}

/** Everything the lead's engine call needs to run a generation from the scene. */
export function sceneGenerationInput(scene: Scene): SceneGenerationInput {
  return { width: scene.width, height: scene.height, prompt: scene.globalPrompt, negativePrompt: scene.globalNegative, regions: sceneToRegions(scene) };
}

/** FNV-1a (32-bit) of the bytes, as 8 hex digits. */
export function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export interface MaskStats {
  checksum: string;
  /** Pixels with any coverage. */
  coverage: number;
}

// Scene masks are never written (scene.ts), so a buffer's stats can be cached by identity.
const statsCache = new WeakMap<Uint8Array, MaskStats>();

export function maskStats(mask: Uint8Array): MaskStats {
  let s = statsCache.get(mask);
  if (!s) {
    s = { checksum: fnv1a(mask), coverage: coverageCount(mask) };
    statsCache.set(mask, s);
  }
  return s;
}
