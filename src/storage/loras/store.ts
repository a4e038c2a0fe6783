/**
 * The plain-LoRA library (issue 13 point 1), stored as models and concepts are: the file in OPFS
 * (`loras/<id>.safetensors`, written as `<id>.safetensors.tmp` and renamed, so a reader never sees
 * half a file) and one IndexedDB record per LoRA (its own database; one put: atomic). Import writes the
 * file first and the record last, delete removes the record first: a crash can leave an orphan file
 * (swept by the next import or listing), never a listed LoRA without its file. A refused write is
 * StorageQuotaError.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import type { UNetConfig } from '../../model/config';
import { indexLora } from '../../model/lora/lora';
import { a1111LoraHash } from '../../model/lora/a1111-hashes';
import { sha256Of } from '../../model/lora/sha256';
import { SafetensorsFile } from '../../model/safetensors/reader';
import { BlobSource } from '../../model/safetensors/source';
import { LORA_OPFS_DIR } from '../../engine/lora-run';
import { availableBytes, isQuotaExceeded, StorageQuotaError } from '../errors';
import { entries as dirEntries, opfsRoot, renameFile } from '../models/opfs';
import { checkLoraName, isLoraRecord, LoraNotFoundError, nameFromFile, uniqueLoraName, type LoraRecord } from './record';

export const LORAS_DB = 'cidm-loras';
let store: UseStore | undefined;
const db = () => (store ??= createStore(LORAS_DB, 'loras'));

async function lorasDir(): Promise<FileSystemDirectoryHandle> {
  return (await opfsRoot()).getDirectoryHandle(LORA_OPFS_DIR, { create: true });
}

/** Every readable record, by name. */
export async function listLoras(): Promise<LoraRecord[]> {
  const out: LoraRecord[] = [];
  for (const [, raw] of await entries<string, unknown>(db())) if (isLoraRecord(raw)) out.push(raw);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function getLora(id: string): Promise<LoraRecord | undefined> {
  const r = await get<unknown>(id, db());
  return isLoraRecord(r) ? r : undefined;
}

async function put(r: LoraRecord): Promise<void> {
  try {
    await set(r.id, r, db());
  } catch (err) {
    if (isQuotaExceeded(err)) throw new StorageQuotaError(1024, await availableBytes(), `LoRA "${r.name}"`);
    throw err;
  }
}

async function writeFile(dir: FileSystemDirectoryHandle, name: string, file: Blob): Promise<void> {
  const tmp = `${name}.tmp`;
  const h = await dir.getFileHandle(tmp, { create: true });
  try {
    const w = await h.createWritable();
    try {
      await file.stream().pipeTo(w);
    } catch (err) {
      await w.abort().catch(() => undefined);
      throw err;
    }
    await renameFile(dir, tmp, name);
  } catch (err) {
    await dir.removeEntry(tmp).catch(() => undefined);
    if (isQuotaExceeded(err)) throw new StorageQuotaError(file.size, await availableBytes(), name);
    throw err;
  }
}

/** Files in loras/ that no record names (an import or delete cut short), removed. */
async function sweepOrphans(records: readonly LoraRecord[]): Promise<void> {
  const dir = await lorasDir();
  const known = new Set(records.map((r) => `${r.id}.safetensors`));
  const gone: string[] = [];
  for await (const [name] of dirEntries(dir)) if (!known.has(name)) gone.push(name);
  for (const name of gone) await dir.removeEntry(name).catch(() => undefined);
}

export interface ImportLoraOptions {
  /** The model the LoRA must fit (its UNet config): a LoRA for another model is a 'wrong-model' ModelFileError. */
  unetConfig: UNetConfig;
  modelId: string | null;
  /** Default: the file name without `.safetensors` (made unique). */
  name?: string;
}

/**
 * Checks and stores a `.safetensors` LoRA: ModelFileError 'bad-header' for a file that is not
 * safetensors, 'bad-lora' for one that holds no LoRA (or an unsupported kind), 'wrong-model' for one
 * whose target modules the model lacks or has in other shapes (model/lora/lora.ts indexLora).
 */
export async function importLora(file: File, o: ImportLoraOptions): Promise<LoraRecord> {
  const src = new BlobSource(file, file.name);
  const st = await SafetensorsFile.open(src);
  const index = indexLora(st, o.unetConfig);
  const records = await listLoras();
  const name = o.name ?? uniqueLoraName(nameFromFile(file.name), records);
  checkLoraName(name, records);
  const [hash, sha256] = [await a1111LoraHash(src, st.metadata), await sha256Of(src)];
  const id = `lora-${Date.now().toString(36)}-${Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0')}`;
  const record: LoraRecord = {
    v: 1, id, name, fileName: file.name, format: index.format, bytes: file.size, hash, sha256,
    unetLayers: index.layers.filter((l) => l.component === 'unet').length,
    teLayers: index.layers.filter((l) => l.component !== 'unet').length,
    rank: index.layers.reduce((m, l) => Math.max(m, l.rank), 0),
    checkedModelId: o.modelId,
    createdAt: Date.now(),
  };
  await sweepOrphans(records);
  const dir = await lorasDir();
  await writeFile(dir, `${id}.safetensors`, file);
  try {
    await put(record);
  } catch (err) {
    await dir.removeEntry(`${id}.safetensors`).catch(() => undefined);
    throw err;
  }
  return record;
}

export async function renameLora(id: string, name: string): Promise<LoraRecord> {
  const r = await getLora(id);
  if (!r) throw new LoraNotFoundError(id);
  checkLoraName(name, await listLoras(), id);
  const next = { ...r, name };
  await put(next);
  return next;
}

export async function deleteLora(id: string): Promise<void> {
  await del(id, db());
  await (await lorasDir()).removeEntry(`${id}.safetensors`).catch(() => undefined);
}

/** Bytes the LoRA files take. */
export async function loraLibraryBytes(): Promise<number> {
  return (await listLoras()).reduce((a, r) => a + r.bytes, 0);
}
