/**
 * A gallery entry and its schema versions. Records carry `v`; `upgradeRecord` brings any older record
 * to the current shape (one step per version), so data written by an older studio keeps working.
 *   v1: { v:1, id, createdAt, prompt, negative, seed, steps, cfg, sampler, width, height, model, png }
 *       (flat fields, as the first gallery stored them)
 *   v2: { v:2, id, createdAt, params: ImageParameters, modelId, dtype, timings?, png, regions?, concepts?, edit? }
 *       (edit: added by issue 14 as an optional field; older v2 records simply have none)
 *       (scene: the whole scene as it was run, added by issue 13 point 5 as an optional field; older
 *       scene images have only sceneId and regions)
 */
import type { ImageParameters } from '../png/parameters';
import type { SceneRecord } from '../scenes/record';
import type { SchedulerKind } from '../../diffusion/schedulers';

export const GALLERY_SCHEMA_VERSION = 2;

export interface GalleryRegion {
  name: string;
  prompt: string;
  negativePrompt: string;
  color: string;
}

export interface GalleryRecord {
  v: 2;
  id: string;
  createdAt: number;
  params: ImageParameters;
  modelId: string;
  dtype: 'f16' | 'f32';
  /** f32 compute over packed f16 weights (no shader-f16); optional, so older records read as before. */
  packedWeights?: boolean;
  /** f16 arithmetic in the matmuls (precision 'f16 math'); optional, so older records read as before. */
  f16Math?: boolean;
  timings?: { totalMs: number };
  /** The PNG as downloaded (parameters in its tEXt chunk). */
  png: Blob;
  /** Concepts and regions used (issues 6/7); absent for plain text to image. */
  regions?: GalleryRegion[];
  concepts?: string[];
  /** The scene the regions came from (src/storage/scenes), when generated from one. */
  sceneId?: string;
  /** That scene as it was run, kept with the image so it restores after the scene was edited or deleted. */
  scene?: GallerySceneSnapshot;
  /** An edit's input (issue 14 point 7), stored in the same put as the image: absent for text to image. */
  edit?: GalleryEdit;
  /** Style strengths of the concepts the prompt named (factors on their EWA weights), when any was not 1. */
  conceptStrength?: Record<string, number>;
}

/** A scene image's scene: the stored scene shape (masks PackBits-coded) with the run's settings and seed. */
export interface GallerySceneSnapshot {
  /** Regions (names, colours, prompts, negatives, masks, concepts), size, global prompts, reference image id, run settings. */
  record: SceneRecord;
  /** The reference image was the run's init image, at this strength. */
  init?: { strength: number };
}

/** What an edited image started from: enough for "Reuse" to run it again. */
export interface GalleryEdit {
  /** The init image as it was given (before fitting), a PNG. */
  init: Blob;
  /** The inpaint mask at the init image's size, a grey PNG (255 = repaint); absent: none. */
  mask?: Blob;
  strength: number;
  maskBlur?: number;
  keepOutside?: boolean;
  outpaint?: [number, number, number, number];
}

export interface GalleryRecordV1 {
  v: 1;
  id: string;
  createdAt: number;
  prompt: string;
  negative: string;
  seed: number;
  steps: number;
  cfg: number;
  sampler: SchedulerKind;
  width: number;
  height: number;
  model: string;
  png: Blob;
}

export class GalleryRecordError extends Error {
  override readonly name = 'GalleryRecordError';
  readonly code = 'bad-gallery-record';
}

function fromV1(r: GalleryRecordV1): GalleryRecord {
  return {
    v: 2,
    id: r.id,
    createdAt: r.createdAt,
    params: {
      prompt: r.prompt,
      negativePrompt: r.negative,
      seed: r.seed,
      steps: r.steps,
      guidanceScale: r.cfg,
      scheduler: r.sampler,
      width: r.width,
      height: r.height,
      model: r.model,
    },
    modelId: r.model,
    dtype: 'f32',
    png: r.png,
  };
}

/** Any stored version → the current record; a record from a newer studio or of unknown shape is refused. */
export function upgradeRecord(raw: unknown): GalleryRecord {
  const r = raw as { v?: unknown; id?: unknown } | null;
  if (!r || typeof r !== 'object' || typeof r.id !== 'string') throw new GalleryRecordError('A gallery entry has no id.');
  if (r.v === 1) return fromV1(r as GalleryRecordV1);
  if (r.v === 2) return r as GalleryRecord;
  throw new GalleryRecordError(`Gallery entry ${r.id} has schema version ${String(r.v)}; this studio reads up to ${GALLERY_SCHEMA_VERSION}.`);
}

export function newImageId(now = Date.now()): string {
  const rand = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `img-${now.toString(36)}-${rand}`;
}
