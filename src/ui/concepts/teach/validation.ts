/**
 * The Teach form's rules, pure so they are unit-tested: how many photos, which files, the placeholder
 * words (suggested from the name; new words, unique in the library), the caption template, the training
 * sizes a model allows and the numbers of the advanced settings. Defaults are the spec's (§1.6).
 * The engine still refuses a placeholder that is a vocabulary word (PlaceholderCollisionError): the page
 * has no tokenizer, so that check is the engine's.
 */
import { defaultTrainSteps, TRAIN_DEFAULTS } from '../../../engine/train-job';

export const MIN_PHOTOS = 3;
export const MAX_PHOTOS = 20;
export const PHOTO_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
const PHOTO_EXT = /\.(png|jpe?g|webp)$/i;

export type CaptionKind = 'object' | 'style' | 'custom';

export interface TeachForm {
  name: string;
  classWord: string;
  /** The placeholder words as typed, separated by spaces or commas. */
  placeholders: string;
  captionKind: CaptionKind;
  customCaption: string;
  resolution: number;
  /** null: the default for the number of photos (defaultTrainSteps). */
  steps: number | null;
  lrLora: number;
  lrTokens: number;
  rank: number;
  seed: number;
  masked: boolean;
  checkpointEvery: number;
  previewEvery: number;
}

export function defaultTeachForm(resolution: number, seed: number): TeachForm {
  return {
    name: '', classWord: '', placeholders: '', captionKind: 'object', customCaption: 'a photo of {}', resolution, steps: null,
    lrLora: TRAIN_DEFAULTS.lrLora, lrTokens: TRAIN_DEFAULTS.lrTokens, rank: TRAIN_DEFAULTS.rank, seed, masked: true,
    checkpointEvery: TRAIN_DEFAULTS.checkpointEvery, previewEvery: 50,
  };
}

/** Whether a file is one of the photo types (by MIME type, or by extension when the browser gives none). */
export function isPhotoFile(f: { name: string; type: string }): boolean {
  return f.type ? (PHOTO_TYPES as readonly string[]).includes(f.type) : PHOTO_EXT.test(f.name);
}

/** Why the photo count cannot train, or null. */
export function photoCountProblem(n: number): string | null {
  if (n === 0) return `Add ${MIN_PHOTOS} to ${MAX_PHOTOS} photos of the subject.`;
  if (n < MIN_PHOTOS) return `${n} photo${n === 1 ? '' : 's'}: add at least ${MIN_PHOTOS - n} more (${MIN_PHOTOS} to ${MAX_PHOTOS} photos, from different angles and backgrounds).`;
  if (n > MAX_PHOTOS) return `${n} photos: remove ${n - MAX_PHOTOS} (at most ${MAX_PHOTOS}; more photos of one subject add time, not likeness).`;
  return null;
}

/** The words of the placeholder field. */
export function parsePlaceholders(text: string): string[] {
  return text.split(/[\s,]+/).filter((w) => w.length > 0);
}

/** "Rex the dog" → "<rex1>" (the first free number), a made-up word no tokenizer knows whole. */
export function suggestPlaceholder(name: string, taken: ReadonlySet<string>): string {
  const stem = (name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9\s]/g, '').split(/\s+/).find((w) => /[a-z]/.test(w)) ?? 'concept').slice(0, 10);
  for (let i = 1; ; i++) {
    const w = `<${stem}${i}>`;
    if (!taken.has(w)) return w;
  }
}

export type TeachErrors = Partial<Record<'photos' | 'name' | 'classWord' | 'placeholders' | 'caption' | 'resolution' | 'steps' | 'lrLora' | 'lrTokens' | 'rank' | 'seed' | 'checkpointEvery' | 'previewEvery' | 'masks', string>>;

export interface TeachContext {
  photos: number;
  /** Photos with a painted mask that covers nothing (the masked loss would have nothing to learn from). */
  emptyMasks: number;
  /** Placeholder words of the library's concepts and of the queued jobs. */
  taken: ReadonlySet<string>;
  resolutions: readonly number[];
}

const int = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
const rate = (v: number) => Number.isFinite(v) && v > 0 && v < 1;

/** Every problem of the form, by field (empty: it can train). */
export function validateTeach(f: TeachForm, c: TeachContext): TeachErrors {
  const e: TeachErrors = {};
  const photos = photoCountProblem(c.photos);
  if (photos) e.photos = photos;
  if (!f.name.trim()) e.name = 'Name the concept (e.g. "Rex", "My mug", "Watercolour").';
  if (!f.classWord.trim()) e.classWord = 'Give the class word: what the subject is, in one or two words ("dog", "teddy bear", "painting").';
  else if (!/^[a-z][a-z' -]*$/i.test(f.classWord.trim())) e.classWord = 'The class word is a plain English word or two ("dog", "teddy bear"), letters only.';
  const words = parsePlaceholders(f.placeholders);
  const classWords = new Set(f.classWord.toLowerCase().split(/\s+/));
  if (!words.length) e.placeholders = 'Give at least one placeholder word, e.g. <rex1>: the word your prompts will use for this concept.';
  else if (words.length > 4) e.placeholders = 'Use one to four placeholder words.';
  else {
    const dup = words.find((w, i) => words.indexOf(w) !== i);
    const taken = words.find((w) => c.taken.has(w));
    const plain = words.find((w) => classWords.has(w.toLowerCase()));
    if (dup) e.placeholders = `"${dup}" is listed twice.`;
    else if (taken) e.placeholders = `"${taken}" already names a concept in your library or queue; prompts could not tell them apart. Choose another word.`;
    else if (plain) e.placeholders = `"${plain}" is the class word; a placeholder must be a new word, e.g. <${plain.toLowerCase()}1>, or training would change its meaning everywhere.`;
  }
  if (f.captionKind === 'custom' && !f.customCaption.includes('{}')) e.caption = 'A custom caption needs {} where the concept\'s words go, e.g. "a photo of {} on a beach".';
  if (!c.resolutions.includes(f.resolution)) e.resolution = `Choose a training size this model allows: ${c.resolutions.join(', ')}.`;
  if (f.steps !== null && !int(f.steps, 1, 20000)) e.steps = 'Steps: a whole number from 1 to 20000.';
  if (!rate(f.lrLora)) e.lrLora = 'The LoRA learning rate is a small positive number (default 1e-4).';
  if (!rate(f.lrTokens)) e.lrTokens = 'The token learning rate is a small positive number (default 1e-3).';
  if (!int(f.rank, 1, 64)) e.rank = 'The rank is a whole number from 1 to 64 (default 4).';
  if (!int(f.seed, 0, 2 ** 32 - 1)) e.seed = 'The seed is a whole number from 0 to 4294967295.';
  if (!int(f.checkpointEvery, 1, 100000)) e.checkpointEvery = 'Save a checkpoint every 1 or more steps.';
  if (!int(f.previewEvery, 0, 100000)) e.previewEvery = 'Preview every 0 (never) or more steps.';
  if (f.masked && c.emptyMasks > 0) e.masks = `${c.emptyMasks} photo${c.emptyMasks === 1 ? ' has' : 's have'} a mask with nothing painted: paint the subject, clear the mask, or turn the masked loss off.`;
  return e;
}

/** The steps the job will run: the form's, or the default for the number of photos. */
export function effectiveSteps(f: Pick<TeachForm, 'steps'>, photos: number): number {
  return f.steps ?? defaultTrainSteps(Math.max(1, photos));
}

/** The caption template the engine takes. */
export function captionTemplateOf(f: Pick<TeachForm, 'captionKind' | 'customCaption'>): string {
  return f.captionKind === 'custom' ? f.customCaption : f.captionKind;
}

/** What a model's config says about sizes: its native side (unet sample_size × VAE factor) and the grid every side must be a multiple of. */
export interface ModelSizes {
  native: number;
  grid: number;
}

/**
 * Training sizes a model allows: its native side and halvings of it that stay on its grid. A full-size
 * model (native ≥ 1024) offers native and native/2 (SDXL: 1024 and 512, spec §1.6: 512 by default); a
 * small test model offers every halving down to its grid, so tests can train at a few pixels.
 */
export function resolutionOptions(m: ModelSizes): { options: number[]; preferred: number } {
  const floor = m.native >= 1024 ? m.native / 2 : m.grid;
  const options: number[] = [];
  for (let s = m.native; s >= floor && s >= m.grid && s % m.grid === 0; s /= 2) options.push(s);
  if (!options.length) options.push(Math.max(m.grid, Math.round(m.native / m.grid) * m.grid));
  const preferred = options.includes(512) ? 512 : options[Math.min(1, options.length - 1)]!;
  return { options: options.sort((a, b) => a - b), preferred };
}
