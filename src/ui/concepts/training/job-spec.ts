/**
 * From a stored job to the engine's request, and the engine's checkpoints to the checkpoint store and
 * back. Pure (no IndexedDB, no engine), so the round trips are unit-tested.
 *
 * The checkpoint store keeps optimizer groups as named flat buffers plus JSON (checkpoint-record.ts);
 * the engine's TrainCheckpoint (protocol.ts) maps onto it as groups {lora, tokens}, trainer = the
 * CidmTrainer state, config = {steps, losses} (the run's total steps: the lr decay depends on it).
 */
import type { TrainerCheckpoint } from '../../../cidm/train/trainer';
import type { TrainCheckpoint, TrainJobSpec, TrainOldTask, TrainPhoto } from '../../../engine/protocol';
import type { TrainingCheckpoint } from '../../../storage/concepts/checkpoint-record';
import type { JobPhoto, TrainingJobRecord } from '../../../storage/concepts/job-record';
import { decodePng } from '../../../storage/png/png';

export interface StoredRunConfig {
  steps: number;
  losses: number[];
}

export type StoredTrainCheckpoint = TrainingCheckpoint<TrainerCheckpoint, StoredRunConfig>;

export function toStoredCheckpoint(c: TrainCheckpoint, now = Date.now()): StoredTrainCheckpoint {
  return {
    jobId: c.jobId,
    step: c.step,
    createdAt: now,
    groups: { lora: c.lora, tokens: c.tokens },
    trainer: c.trainer,
    config: { steps: c.steps, losses: c.losses.slice(0, c.step) },
  };
}

/** The engine's checkpoint again; a stored one without both groups is refused by name. */
export function fromStoredCheckpoint(s: StoredTrainCheckpoint): TrainCheckpoint {
  const { lora, tokens } = s.groups;
  if (!lora || !tokens) throw new RangeError(`The checkpoint of job ${s.jobId} at step ${s.step} lacks its ${lora ? 'token' : 'LoRA'} state; cancel the job and teach the concept again.`);
  return { jobId: s.jobId, step: s.step, steps: s.config.steps, trainer: s.trainer, lora, tokens, losses: [...s.config.losses] };
}

/** A stored photo as the engine's TrainPhoto (the crop's RGBA and, from its grey PNG, the 0..1 mask). */
export async function trainPhotoOf(p: JobPhoto, size: number): Promise<TrainPhoto> {
  const img = await decodePng(new Uint8Array(p.png));
  if (img.width !== size || img.height !== size) throw new RangeError(`The stored photo "${p.name}" is ${img.width}×${img.height}, not ${size}×${size}; cancel the job and teach the concept again.`);
  const photo: TrainPhoto = { rgba: { width: size, height: size, rgba: new Uint8ClampedArray(img.rgba) } };
  if (p.mask) {
    const m = await decodePng(new Uint8Array(p.mask));
    const mask = new Float32Array(size * size);
    for (let i = 0; i < mask.length; i++) mask[i] = m.rgba[i * 4]! / 255;
    photo.mask = mask;
  }
  return photo;
}

export interface SpecExtras {
  taskIndex: number;
  oldTasks: TrainOldTask[];
  resume?: TrainCheckpoint;
}

/** The engine's train request for a stored job. */
export async function trainSpecOf(job: TrainingJobRecord, x: SpecExtras): Promise<TrainJobSpec> {
  const s = job.settings;
  const photos = await Promise.all(job.photos.map((p) => trainPhotoOf(p, s.resolution)));
  return {
    jobId: job.id,
    name: s.name,
    classWord: s.classWord,
    placeholders: [...s.placeholders],
    taskIndex: x.taskIndex,
    photos,
    captionTemplate: s.captionTemplate,
    steps: s.steps,
    rank: s.rank,
    lrLora: s.lrLora,
    lrTokens: s.lrTokens,
    seed: s.seed,
    masked: s.masked && job.photos.some((p) => p.mask),
    resolution: s.resolution,
    checkpointEvery: s.checkpointEvery,
    previewEvery: s.previewEvery,
    oldTasks: x.oldTasks,
    ...(x.resume ? { resume: x.resume } : {}),
  };
}
