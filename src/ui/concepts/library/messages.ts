/**
 * What the library says to a person (pure, tested): after an import, before a delete, and for a
 * concept file that cannot be imported. The delete warning follows the consolidation loss (spec §2.2):
 * task g's LoRA was trained orthogonal to tasks 1..g-1, so deleting task k leaves the later tasks
 * regularised against a subspace that is gone — they keep working, nothing is retrained.
 */
import type { ConceptMeta } from '../../../storage/concepts/record';
import { reasonOf } from '../../plain-error';

export type ModelNames = ReadonlyMap<string, string>;

const modelLabel = (id: string, names: ModelNames) => (names.has(id) ? `"${names.get(id)}"` : `"${id}" (not in this studio)`);

/** The line shown after a concept file was imported. */
export function importNotice(c: Pick<ConceptMeta, 'name' | 'modelId' | 'placeholders' | 'classWord'>, activeModelId: string | null, names: ModelNames): string {
  const phrase = `${c.placeholders.join(' ')} ${c.classWord}`;
  if (activeModelId !== null && c.modelId === activeModelId) return `Imported "${c.name}": name it in a prompt as ${phrase}.`;
  return `Imported "${c.name}", a concept of model ${modelLabel(c.modelId, names)}${activeModelId ? `, not of the active model ${modelLabel(activeModelId, names)}` : ''}: it is kept in the library and is used when that model is active.`;
}

/** The line shown when the file's concept is already in the library (same id). */
export function duplicateNotice(existing: Pick<ConceptMeta, 'name'>): string {
  return `"${existing.name}" is already in the library (the same concept); nothing was imported. Delete it first to import the file again.`;
}

/** The confirmation text before deleting `target`; `later` are the concepts consolidated against it. */
export function deleteWarning(target: Pick<ConceptMeta, 'name' | 'taskIndex'>, later: readonly Pick<ConceptMeta, 'name' | 'taskIndex'>[]): string {
  const head = `Delete "${target.name}" (task ${target.taskIndex})? Its tokens and LoRA are removed from this device; prompts that name it will no longer change the picture.`;
  if (later.length === 0) return `${head} No later task was trained against it.`;
  const list = later.map((c) => `"${c.name}" (task ${c.taskIndex})`).join(', ');
  return `${head} ${later.length === 1 ? 'One later task was' : `${later.length} later tasks were`} trained with their consolidation computed against it: ${list}. They keep working as they are, but were kept apart from a concept that will be gone, and the next concept you teach is not consolidated against it.`;
}

const FILE_TITLES: Record<string, string> = {
  truncated: 'The file is incomplete',
  corrupt: 'The file is damaged',
  'not-a-concept': 'Not a concept file',
  'newer-format': 'Made by a newer studio',
};

/** A short title for an error of the library (the message says the rest). */
export function errorTitle(err: unknown): string {
  const e = err as { name?: string; code?: string } | null;
  if (e?.name === 'ConceptFileError' && e.code) return FILE_TITLES[e.code] ?? 'The file cannot be imported';
  if (e?.name === 'StorageQuotaError') return 'Not enough storage';
  if (e?.name === 'ConceptModelMissingError') return 'The concept\'s model is missing';
  if (e?.name === 'ConceptNotFoundError') return 'The concept is gone';
  return 'Something went wrong';
}

export function errorText(err: unknown): string {
  return reasonOf(err);
}
