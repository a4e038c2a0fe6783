/**
 * The scene model of the region mask editor (CIDM §4.3, context-controllable synthesis): an output
 * size, global prompts, and an ordered stack of layers, each a painted region with its own prompt.
 *
 * Masks are alpha rasters (Uint8Array, 0..255, row-major) at the EDITING resolution, which is the
 * output size when its long side is ≤ EDIT_MAX_SIDE (1024), else the output divided by the smallest
 * integer factor that brings it there (SDXL sizes go up to 2048, so a factor of 1 or 2; a multiple of
 * 8 divided by 2 is still an integer). That caps a layer at 1 MiB and keeps the strokes fast; masks
 * are resampled to the output size only when a generation needs them (regions.ts).
 *
 * Layers are ordered bottom to top (the order they are drawn in); the layer panel lists them
 * reversed. A mask buffer is never written after it is in a scene: every edit makes a new buffer, so
 * the history can share buffers and identity tells what changed.
 */
import type { SceneRunSettings } from '../../../storage/scenes/record';

export const EDIT_MAX_SIDE = 1024;

export interface Layer {
  id: string;
  name: string;
  /** '#rrggbb': the colour the mask is drawn in. */
  color: string;
  prompt: string;
  negativePrompt: string;
  /** Concept ids used by this region (issue 7; empty for now). */
  concepts: string[];
  visible: boolean;
  /** Display only (0..1): how strongly the mask colour covers the reference image. */
  opacity: number;
  /** maskWidth × maskHeight alpha, 0..255. */
  mask: Uint8Array;
}

export interface Scene {
  id: string;
  name: string;
  /** Output size in pixels, multiples of 8. */
  width: number;
  height: number;
  /** Editing resolution of every layer's mask (editSize(width, height)). */
  maskWidth: number;
  maskHeight: number;
  globalPrompt: string;
  globalNegative: string;
  layers: Layer[];
  /** A gallery image shown under the masks while painting. */
  referenceImageId?: string;
  /** Its own steps, sampler, CFG, seed and blend; absent until first set (scene-run.ts fills them from the Generate panel). */
  run?: SceneRunSettings;
  createdAt: number;
  updatedAt: number;
}

/** Distinct, readable on the dark theme, in the order new layers take them. */
export const LAYER_COLORS = ['#ff6b6b', '#38d5f2', '#3ecf8e', '#f2b553', '#8b7bff', '#ff8ad8', '#a3e635', '#fb923c'] as const;

export function editScale(width: number, height: number): number {
  return Math.max(1, Math.ceil(Math.max(width, height) / EDIT_MAX_SIDE));
}

export function editSize(width: number, height: number): { width: number; height: number } {
  const k = editScale(width, height);
  return { width: Math.ceil(width / k), height: Math.ceil(height / k) };
}

export function newId(prefix: string, now = Date.now()): string {
  const rand = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `${prefix}-${now.toString(36)}-${rand}`;
}

/** The next colour not used by a layer yet (cycling when all are). */
export function nextColor(layers: readonly Layer[]): string {
  const used = new Set(layers.map((l) => l.color));
  return LAYER_COLORS.find((c) => !used.has(c)) ?? LAYER_COLORS[layers.length % LAYER_COLORS.length]!;
}

/** "Region n" with the smallest n not taken. */
export function nextLayerName(layers: readonly Layer[]): string {
  const names = new Set(layers.map((l) => l.name));
  let n = 1;
  while (names.has(`Region ${n}`)) n++;
  return `Region ${n}`;
}

export function createLayer(scene: Pick<Scene, 'maskWidth' | 'maskHeight' | 'layers'>, init: Partial<Layer> = {}): Layer {
  return {
    id: init.id ?? newId('layer'),
    name: init.name ?? nextLayerName(scene.layers),
    color: init.color ?? nextColor(scene.layers),
    prompt: init.prompt ?? '',
    negativePrompt: init.negativePrompt ?? '',
    concepts: init.concepts ?? [],
    visible: init.visible ?? true,
    opacity: init.opacity ?? 0.55,
    mask: init.mask ?? new Uint8Array(scene.maskWidth * scene.maskHeight),
  };
}

/** A new scene with one empty layer. Width and height must be multiples of 8. */
export function createScene(width = 1024, height = 1024, init: { id?: string; name?: string; now?: number; layerId?: string } = {}): Scene {
  if (width % 8 !== 0 || height % 8 !== 0 || width <= 0 || height <= 0) throw new RangeError(`scene size ${width}×${height}: both sides must be positive multiples of 8`);
  const now = init.now ?? Date.now();
  const m = editSize(width, height);
  const base = { maskWidth: m.width, maskHeight: m.height, layers: [] as Layer[] };
  return {
    id: init.id ?? newId('scene', now),
    name: init.name ?? 'Untitled scene',
    width,
    height,
    maskWidth: m.width,
    maskHeight: m.height,
    globalPrompt: '',
    globalNegative: '',
    layers: [createLayer(base, init.layerId ? { id: init.layerId } : {})],
    createdAt: now,
    updatedAt: now,
  };
}
