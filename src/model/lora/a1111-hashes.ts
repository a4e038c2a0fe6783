/**
 * The short hashes AUTOMATIC1111 writes into a PNG's `parameters` (checked against its source,
 * v1.6–1.10):
 *  - `Model hash: …` is CheckpointInfo.shorthash = the first 10 hex characters of the SHA-256 of the
 *    whole checkpoint file (modules/sd_models.py: `self.shorthash = self.sha256[0:10]`, sha256 from
 *    modules/hashes.calculate_sha256 over every byte).
 *  - `Lora hashes: "name: …"` is NetworkOnDisk.shorthash = the first 12 hex characters of the
 *    safetensors file's "addnet" hash (extensions-builtin/Lora/network.py `set_hash`: hash[0:12];
 *    hashes.sha256_from_cache(…, use_addnet_hash=True) → addnet_hash_safetensors): the SHA-256 of the
 *    bytes after the header, i.e. of the tensor data only, so editing the metadata keeps the hash
 *    (kohya-ss sd-scripts train_util.py). A file whose metadata carries `sshs_model_hash` (kohya writes
 *    the same hash there when saving) is taken at its word, as A1111 does.
 */
import { sha256Of, type RangeReader } from './sha256';

export const MODEL_HASH_CHARS = 10;
export const LORA_HASH_CHARS = 12;

/** The length of the safetensors header: the first 8 bytes, little-endian u64. */
async function headerLength(src: RangeReader): Promise<number> {
  const b = await src.read(0, 8);
  const dv = new DataView(b.buffer, b.byteOffset, 8);
  return dv.getUint32(0, true) + dv.getUint32(4, true) * 0x100000000;
}

/** The full addnet SHA-256 of a safetensors file (64 hex): the data after the 8 + N header bytes. */
export async function addnetHash(src: RangeReader, signal?: AbortSignal): Promise<string> {
  return sha256Of(src, 8 + (await headerLength(src)), undefined, signal);
}

/** A1111's `Lora hashes` value for a safetensors LoRA (12 hex). */
export async function a1111LoraHash(src: RangeReader, metadata: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Promise<string> {
  const pre = metadata['sshs_model_hash'];
  const full = pre && /^[0-9a-f]{12,64}$/i.test(pre) ? pre.toLowerCase() : await addnetHash(src, signal);
  return full.slice(0, LORA_HASH_CHARS);
}

/** A1111's `Model hash` of a checkpoint file (10 hex): SHA-256 of every byte. */
export async function a1111ModelHash(src: RangeReader, signal?: AbortSignal): Promise<string> {
  return (await sha256Of(src, 0, undefined, signal)).slice(0, MODEL_HASH_CHARS);
}
