/**
 * A saved scene and its schema versions. Records carry `v`; `upgradeSceneRecord` brings any older
 * record to the current stored shape (one step per version), so scenes saved by an older studio open.
 *   v1: { v:1, id, name, width, height, prompt, createdAt, regions: [{ name, color, prompt, mask }] }
 *       the first draft's format: one prompt per region, raw masks at the output size, no negative
 *       prompts, visibility, opacity or concepts.
 *   v2: { v:2, ...scene fields, maskWidth, maskHeight, layers: [{ ...layer fields, mask: PackBits }], run? }
 *       (run: the scene's own steps, sampler, CFG, seed and blend, added by issue 13 point 5 as an
 *       optional field; a scene saved before has none and takes the Generate panel's values)
 * The app works with SceneData (masks decoded); encodeScene/decodeScene convert at the store's edge.
 */
import { packBits, unpackBits } from './packbits';
import type { SchedulerKind } from '../../diffusion/schedulers';

export const SCENE_SCHEMA_VERSION = 2;

export interface LayerData {
  id: string;
  name: string;
  color: string;
  prompt: string;
  negativePrompt: string;
  concepts: string[];
  visible: boolean;
  opacity: number;
  /** maskWidth × maskHeight alpha. */
  mask: Uint8Array;
}

/** A scene's own run settings (issue 13 point 5): a scene is a job of its own, not the Generate panel's. */
export interface SceneRunSettings {
  steps: number;
  scheduler: SchedulerKind;
  /** s of CIDM Eq. 4: the one guidance scale of the whole picture and every region (the run's CFG). */
  guidanceScale: number;
  /** α of CIDM Eq. 5: the whole-picture estimate's share inside the regions. */
  regionAlpha: number;
  seed: number;
  /** Locked: reuse `seed`; unlocked: a fresh seed for every run. */
  seedLocked: boolean;
}

/** A scene as the editor holds it (structurally the editor's Scene, src/ui/scenes/editor/scene.ts). */
export interface SceneData {
  id: string;
  name: string;
  width: number;
  height: number;
  maskWidth: number;
  maskHeight: number;
  globalPrompt: string;
  globalNegative: string;
  layers: LayerData[];
  referenceImageId?: string;
  /** Absent in scenes saved before scenes had their own settings. */
  run?: SceneRunSettings;
  createdAt: number;
  updatedAt: number;
}

export interface StoredLayerV2 extends Omit<LayerData, 'mask'> {
  /** PackBits of the mask bytes (packbits.ts). */
  mask: Uint8Array;
}

export interface SceneRecordV2 extends Omit<SceneData, 'layers'> {
  v: 2;
  layers: StoredLayerV2[];
}

export interface SceneRecordV1 {
  v: 1;
  id: string;
  name: string;
  width: number;
  height: number;
  prompt: string;
  createdAt: number;
  regions: { name: string; color: string; prompt: string; mask: Uint8Array }[];
}

export type SceneRecord = SceneRecordV2;

export class SceneRecordError extends Error {
  override readonly name = 'SceneRecordError';
  readonly code = 'bad-scene-record';
}

function fromV1(r: SceneRecordV1): SceneRecordV2 {
  return {
    v: 2,
    id: r.id,
    name: r.name,
    width: r.width,
    height: r.height,
    // v1 masks were at the output size; v2 allows any editing size, so they are kept as they are.
    maskWidth: r.width,
    maskHeight: r.height,
    globalPrompt: r.prompt,
    globalNegative: '',
    createdAt: r.createdAt,
    updatedAt: r.createdAt,
    layers: r.regions.map((g, i) => {
      if (g.mask.length !== r.width * r.height) throw new SceneRecordError(`Scene ${r.id}: region ${i + 1}'s mask has ${g.mask.length} bytes, expected ${r.width}×${r.height}.`);
      return { id: `${r.id}-layer-${i}`, name: g.name, color: g.color, prompt: g.prompt, negativePrompt: '', concepts: [], visible: true, opacity: 0.55, mask: packBits(g.mask) };
    }),
  };
}

/** Any stored version → the current stored record; a record from a newer studio or of unknown shape is refused. */
export function upgradeSceneRecord(raw: unknown): SceneRecord {
  const r = raw as { v?: unknown; id?: unknown } | null;
  if (!r || typeof r !== 'object' || typeof r.id !== 'string') throw new SceneRecordError('A saved scene has no id.');
  if (r.v === 1) return fromV1(r as SceneRecordV1);
  if (r.v === 2) return r as SceneRecordV2;
  throw new SceneRecordError(`Scene ${r.id} has schema version ${String(r.v)}; this studio reads up to ${SCENE_SCHEMA_VERSION}.`);
}

export function encodeScene(s: SceneData): SceneRecord {
  const { layers, ...fields } = s;
  return { v: 2, ...fields, ...(fields.run ? { run: { ...fields.run } } : {}), layers: layers.map((l) => ({ ...l, concepts: [...l.concepts], mask: packBits(l.mask) })) };
}

export function decodeScene(r: SceneRecord): SceneData {
  const { v: _v, layers, ...fields } = r;
  const n = r.maskWidth * r.maskHeight;
  try {
    return { ...fields, ...(fields.run ? { run: { ...fields.run } } : {}), layers: layers.map((l) => ({ ...l, concepts: [...l.concepts], mask: unpackBits(l.mask, n) })) };
  } catch (err) {
    throw new SceneRecordError(`Scene ${r.id} ("${r.name}") has a damaged mask: ${(err as Error).message}.`);
  }
}
