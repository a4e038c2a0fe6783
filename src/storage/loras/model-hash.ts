/**
 * The `Model hash` of a stored model for the PNG's parameters (A1111: the first 10 hex of the SHA-256
 * of the checkpoint file, model/lora/a1111-hashes.ts).
 *
 * A single-file checkpoint: exactly A1111's, over the whole file. A diffusers folder has no single file,
 * and A1111 cannot load one, so no value of its would match; the hash is then taken over the UNet's
 * weight file as the engine loads it (`unet/diffusion_pytorch_model.fp16.safetensors`, else the plain
 * one): the UNet is what tells fine-tunes apart (they share text encoders and VAE), and the same
 * folder always gives the same hash. Computed once per model (a streamed SHA-256 of a 5 GB file takes
 * tens of seconds) and kept in its own IndexedDB store.
 */
import { createStore, get, set, type UseStore } from 'idb-keyval';
import { SINGLE_FILE_CHECKPOINT } from '../../model/model-files';
import { a1111ModelHash } from '../../model/lora/a1111-hashes';
import { BlobSource } from '../../model/safetensors/source';
import { getModel, openModelFile } from '../models/store';

let store: UseStore | undefined;
const db = () => (store ??= createStore('cidm-model-hashes', 'hashes'));

const UNET_FILES = ['unet/diffusion_pytorch_model.fp16.safetensors', 'unet/diffusion_pytorch_model.safetensors'];

/** The file a model's hash is computed over (see above). */
export function modelHashFile(files: readonly { path: string }[]): string | null {
  const paths = new Set(files.map((f) => f.path));
  if (paths.has(SINGLE_FILE_CHECKPOINT)) return SINGLE_FILE_CHECKPOINT;
  return UNET_FILES.find((p) => paths.has(p)) ?? null;
}

/** The model's short hash (10 hex), or null when it has no file to hash. */
export async function modelShortHash(modelId: string, signal?: AbortSignal): Promise<string | null> {
  const m = await getModel(modelId);
  const path = modelHashFile(m.files);
  if (!path) return null;
  const key = `${modelId}|${m.createdAt}|${path}`;
  const cached = await get<string>(key, db());
  if (cached) return cached;
  const hash = await a1111ModelHash(new BlobSource(await openModelFile(modelId, path), path), signal);
  await set(key, hash, db()).catch(() => undefined); // a refused cache write costs a recomputation only
  return hash;
}
