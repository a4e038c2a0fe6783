/**
 * A finished job becomes a library concept (DESIGN.md "a finished task is one atomic concept record"):
 * the learned tensors with small thumbnails, the last preview as its sample, the loss curve, the photos
 * as trained (PNG crops and mask PNGs, for the forgetting dashboard) and the caption template, all in one
 * putConcept (one IndexedDB put: closing the tab meanwhile leaves no half concept). Only then are the
 * job's checkpoints and the job deleted: a crash between the two leaves a job whose concept exists, and
 * the runner finishes that clean-up on the next start (finishLeftover).
 */
import type { RgbaImage, TrainResult } from '../../../engine/protocol';
import { deleteCheckpoints } from '../../../storage/concepts/checkpoint-store';
import type { TrainingJobRecord } from '../../../storage/concepts/job-record';
import { deleteJob } from '../../../storage/concepts/job-store';
import type { ConceptMedia } from '../../../storage/concepts/record';
import { getConcept, putConcept } from '../../../storage/concepts/store';
import { encodePng } from '../../../storage/png/png';

/** Thumbnails are this many pixels on a side (the library shows them small). */
export const THUMB_SIZE = 96;

async function thumbnail(png: ArrayBuffer): Promise<Blob> {
  const bitmap = await createImageBitmap(new Blob([png], { type: 'image/png' }));
  try {
    const canvas = new OffscreenCanvas(THUMB_SIZE, THUMB_SIZE);
    const g = canvas.getContext('2d');
    if (!g) throw new Error('This browser gave no 2D canvas for the thumbnails.');
    g.imageSmoothingQuality = 'high';
    g.drawImage(bitmap, 0, 0, THUMB_SIZE, THUMB_SIZE);
    return await canvas.convertToBlob({ type: 'image/webp', quality: 0.85 });
  } finally {
    bitmap.close();
  }
}

/** The engine's default preview prompt (train-job: "a photo of <p1> … <pP> {class}"). */
export function samplePrompt(job: TrainingJobRecord): string {
  return `a photo of ${[...job.settings.placeholders, job.settings.classWord.trim()].join(' ')}`;
}

export async function conceptMedia(job: TrainingJobRecord, result: TrainResult, preview: RgbaImage | null): Promise<ConceptMedia> {
  const thumbnails: Blob[] = [];
  for (const p of job.photos) thumbnails.push(await thumbnail(p.png));
  const samples = preview
    ? [{ image: new Blob([(await encodePng(preview.rgba, preview.width, preview.height)).slice().buffer as ArrayBuffer], { type: 'image/png' }), prompt: samplePrompt(job), seed: job.settings.seed }]
    : [];
  return {
    thumbnails,
    samples,
    lossCurve: [...result.losses],
    trainingPhotos: job.photos.map((p) => ({ image: new Blob([p.png], { type: 'image/png' }), mask: p.mask ? new Blob([p.mask], { type: 'image/png' }) : null })),
    captionTemplate: job.settings.captionTemplate,
  };
}

/** Saves the concept (one put), then drops the job's checkpoints and the job. */
export async function saveFinishedJob(job: TrainingJobRecord, result: TrainResult, preview: RgbaImage | null): Promise<void> {
  const media = await conceptMedia(job, result, preview);
  await putConcept({ ...result.concept, ...media });
  await deleteCheckpoints(job.id);
  await deleteJob(job.id);
}

/** Whether a job's concept was already saved (a tab closed between the save and the clean-up); if so, cleans up. */
export async function finishLeftover(job: TrainingJobRecord): Promise<boolean> {
  if (!(await getConcept(job.id))) return false;
  await deleteCheckpoints(job.id);
  await deleteJob(job.id);
  return true;
}
