/**
 * The Scenes section's part of the e2e test bridge (window.__studio.scenes once the lead merges it,
 * see src/ui/studio.d.ts): plain data only. Mask checksums are FNV-1a of the exact mask bytes,
 * cached per buffer (editor/regions.ts), so a snapshot on every store change stays cheap.
 */
import { isDirty, useScenes, type ScenesState } from './scene-store';
import { maskStats } from './editor/regions';
import { useGenerate } from '../generate/generate-store';
import { effectiveRun, type SceneRunSettings } from './scene-run';

export interface SceneBridgeLayer {
  id: string;
  name: string;
  color: string;
  prompt: string;
  negativePrompt: string;
  visible: boolean;
  opacity: number;
  /** FNV-1a of the mask bytes (8 hex digits). */
  checksum: string;
  /** Mask pixels with any coverage. */
  coverage: number;
}

export interface SceneBridge {
  sceneId: string;
  name: string;
  width: number;
  height: number;
  maskWidth: number;
  maskHeight: number;
  globalPrompt: string;
  globalNegative: string;
  referenceImageId: string | null;
  /** The run settings it generates with, and whether they are its own (else the Generate panel's). */
  run: SceneRunSettings;
  ownRun: boolean;
  /** Bottom to top, the order they are drawn and sent to the model. */
  layers: SceneBridgeLayer[];
  activeLayerId: string | null;
  tool: string;
  /** Entries that can be undone / redone. */
  historyDepth: number;
  redoDepth: number;
  dirty: boolean;
  busy: boolean;
  error: string | null;
  savedLoaded: boolean;
  saved: { id: string; name: string; layerCount: number; updatedAt: number }[];
}

export function sceneBridge(s: ScenesState = useScenes.getState()): SceneBridge {
  const sc = s.doc.scene;
  return {
    sceneId: sc.id,
    name: sc.name,
    width: sc.width,
    height: sc.height,
    maskWidth: sc.maskWidth,
    maskHeight: sc.maskHeight,
    globalPrompt: sc.globalPrompt,
    globalNegative: sc.globalNegative,
    referenceImageId: sc.referenceImageId ?? null,
    run: effectiveRun(sc, useGenerate.getState().draft),
    ownRun: sc.run !== undefined,
    layers: sc.layers.map((l) => ({ id: l.id, name: l.name, color: l.color, prompt: l.prompt, negativePrompt: l.negativePrompt, visible: l.visible, opacity: l.opacity, ...maskStats(l.mask) })),
    activeLayerId: s.activeLayerId,
    tool: s.tool,
    historyDepth: s.doc.history.undo.length,
    redoDepth: s.doc.history.redo.length,
    dirty: isDirty(s),
    busy: s.busy,
    error: s.error,
    savedLoaded: s.savedLoaded,
    saved: s.saved.map((x) => ({ id: x.id, name: x.name, layerCount: x.layerCount, updatedAt: x.updatedAt })),
  };
}

/** Calls `listener` after every change of the Scenes store (for bridge.ts to refresh window.__studio). */
export function subscribeSceneBridge(listener: () => void): () => void {
  return useScenes.subscribe(listener);
}
