/**
 * A stored plain LoRA (issue 13 point 1): its file lives in OPFS (engine/lora-run.ts loraOpfsPath), its
 * record in IndexedDB. The name is what `<lora:name:w>` tags use, so it is unique (case-sensitive, as
 * A1111 matches names) and free of the characters the tag and A1111's `Lora hashes` split on.
 */
import type { LoraFormat } from '../../model/lora/keys';
import { isValidLoraName } from '../../model/lora/prompt-tags';

export const LORA_SCHEMA_VERSION = 1;

export interface LoraRecord {
  v: 1;
  id: string;
  /** The name prompts use: `<lora:name:0.8>`. */
  name: string;
  /** The file's name when it was imported. */
  fileName: string;
  format: LoraFormat;
  bytes: number;
  /** A1111's short hash (12 hex of the data-only SHA-256: model/lora/a1111-hashes.ts), for `Lora hashes`. */
  hash: string;
  /** SHA-256 of the whole file (64 hex): the stored bytes' integrity. */
  sha256: string;
  /** LoRA layers for the UNet and for the text encoders; the largest rank. */
  unetLayers: number;
  teLayers: number;
  rank: number;
  /** The model it was checked against at import (its modules exist there with these shapes). */
  checkedModelId: string | null;
  createdAt: number;
}

export class LoraNameError extends Error {
  override readonly name = 'LoraNameError';
  readonly code = 'bad-lora-name';
  constructor(readonly loraName: string, detail: string) {
    super(`The LoRA name "${loraName}" ${detail}.`);
  }
}

export class LoraNotFoundError extends Error {
  override readonly name = 'LoraNotFoundError';
  readonly code = 'lora-not-found';
  constructor(readonly id: string) {
    super(`The LoRA "${id}" is not in the library (it was deleted, maybe in another tab).`);
  }
}

/** A file name → a usable LoRA name: the extension dropped, the tag's separators replaced. */
export function nameFromFile(fileName: string): string {
  const base = fileName.replace(/\.safetensors$/i, '').replace(/[:>,<\n]/g, '_').trim();
  return base.slice(0, 100) || 'lora';
}

/** Checks a name for use by `id` among `records` (LoraNameError: bad characters, or taken). */
export function checkLoraName(name: string, records: readonly Pick<LoraRecord, 'id' | 'name'>[], id?: string): void {
  if (!isValidLoraName(name)) throw new LoraNameError(name, "must be 1–100 characters without ':', '>', '<', ',' or spaces at its ends (prompts write it as <lora:name:0.8>)");
  const other = records.find((r) => r.name === name && r.id !== id);
  if (other) throw new LoraNameError(name, 'is already used by another LoRA; prompts name LoRAs by it, so choose another');
}

/** `name`, or "name (2)", "name (3)", … whichever is free. */
export function uniqueLoraName(name: string, records: readonly Pick<LoraRecord, 'name'>[]): string {
  const taken = new Set(records.map((r) => r.name));
  if (!taken.has(name)) return name;
  for (let i = 2; ; i++) if (!taken.has(`${name} (${i})`)) return `${name} (${i})`;
}

export function isLoraRecord(raw: unknown): raw is LoraRecord {
  const r = raw as Partial<LoraRecord> | null;
  return !!r && r.v === LORA_SCHEMA_VERSION && typeof r.id === 'string' && typeof r.name === 'string' && typeof r.hash === 'string';
}
