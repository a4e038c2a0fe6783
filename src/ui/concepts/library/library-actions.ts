/**
 * The library's actions (issue 11 point 3): import a concept file, export it as one file, as a kohya
 * LoRA and as an embedding for other SDXL tools, rename, delete. Each reads or writes the store and
 * refreshes the page's list; the panel shows what they return or throw.
 */
import { conceptFileName, exportConcept, importConcept } from '../../../storage/concepts/export';
import { exportEmbedding, exportKohyaLora } from '../../../storage/concepts/interop';
import { ConceptNotFoundError } from '../../../storage/concepts/errors';
import { deleteConcept, getConcept, putConcept, renameConcept } from '../../../storage/concepts/store';
import type { ConceptSummary } from '../../../storage/concepts/record';
import { useConcepts } from '../concepts-store';
import { downloadBytes } from './blob-url';
import { duplicateNotice, importNotice, type ModelNames } from './messages';
import { unetConfigOf } from './unet-config';

const refresh = () => useConcepts.getState().refresh();

/** Reads a picked file and adds its concept to the library; returns the line to show. */
export async function importConceptFile(file: File, activeModelId: string | null, names: ModelNames): Promise<string> {
  const c = await importConcept(file, file.name);
  const existing = await getConcept(c.id);
  if (existing) return duplicateNotice(existing);
  // a file carries no photos, thumbnails or samples: the concept is shown without them (and is not scored for forgetting)
  await putConcept({ ...c, thumbnails: [], samples: [], lossCurve: [] });
  await refresh();
  return importNotice(c, activeModelId, names);
}

async function load(id: string) {
  const c = await getConcept(id);
  if (!c) {
    await refresh();
    throw new ConceptNotFoundError(id);
  }
  return c;
}

export type ExportKind = 'concept' | 'lora' | 'embedding';

/** Downloads the concept in one of its three forms; returns the file name. */
export async function exportConceptAs(id: string, kind: ExportKind): Promise<string> {
  const c = await load(id);
  const bytes = kind === 'concept' ? exportConcept(c) : kind === 'lora' ? exportKohyaLora(c, await unetConfigOf(c.modelId)) : exportEmbedding(c);
  const name = conceptFileName(c, kind);
  downloadBytes(bytes, name);
  return name;
}

export async function renameConceptTo(id: string, name: string): Promise<void> {
  await renameConcept(id, name);
  await refresh();
}

/** Deletes the concept; returns the later concepts that were consolidated against it. */
export async function removeConceptById(id: string): Promise<ConceptSummary[]> {
  const later = await deleteConcept(id);
  await refresh();
  return later;
}
