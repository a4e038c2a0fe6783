/**
 * The plain-LoRA library in the page (issue 13 point 1): the records of storage/loras, import (checked
 * against the active model's UNet), rename and delete, and the resolution of a run's `<lora:…>` tags
 * into GenerateParams.loras (the engine reads the files by id).
 */
import { create } from 'zustand';
import { serializeError, type SerializedError } from '../../gpu';
import { parseUNetConfig, SDXL_BASE_UNET_CONFIG, type UNetConfig } from '../../model/config';
import { mergeLoraTags } from '../../model/lora/prompt-tags';
import type { GenerateLora } from '../../engine/protocol';
import { UnknownLoraError } from '../../engine/lora-run';
import { modelFiles } from '../../storage/models/store';
import { deleteLora, importLora, listLoras, renameLora } from '../../storage/loras/store';
import type { LoraRecord } from '../../storage/loras/record';
import { useStudio } from '../store';

export interface LorasState {
  loras: LoraRecord[];
  loaded: boolean;
  busy: boolean;
  error: SerializedError | null;
}

export const useLoras = create<LorasState>()(() => ({ loras: [], loaded: false, busy: false, error: null }));

export async function refreshLoras(): Promise<LoraRecord[]> {
  try {
    const loras = await listLoras();
    useLoras.setState({ loras, loaded: true });
    return loras;
  } catch (err) {
    useLoras.setState({ loaded: true, error: serializeError(err) });
    return [];
  }
}

export function ensureLoras(): void {
  if (!useLoras.getState().loaded) void refreshLoras();
}

/** The active model's UNet config (what an imported LoRA must fit); SDXL base's when no model is chosen. */
async function activeUNet(): Promise<{ config: UNetConfig; modelId: string | null }> {
  const id = useStudio.getState().activeModelId;
  if (!id) return { config: SDXL_BASE_UNET_CONFIG, modelId: null };
  const files = await modelFiles(id);
  return { config: parseUNetConfig(JSON.parse(await files.text('unet/config.json')), `${files.label}/unet/config.json`), modelId: id };
}

/** Imports the files one by one; the first refusal is shown by name, the others still go in. */
export async function importLoraFiles(files: readonly File[]): Promise<void> {
  useLoras.setState({ busy: true, error: null });
  let error: SerializedError | null = null;
  try {
    const { config, modelId } = await activeUNet();
    for (const f of files) {
      try {
        await importLora(f, { unetConfig: config, modelId });
      } catch (err) {
        error ??= serializeError(err);
      }
    }
  } catch (err) {
    error = serializeError(err);
  }
  await refreshLoras();
  useLoras.setState({ busy: false, error });
}

async function act(fn: () => Promise<unknown>): Promise<boolean> {
  useLoras.setState({ error: null });
  try {
    await fn();
    await refreshLoras();
    return true;
  } catch (err) {
    useLoras.setState({ error: serializeError(err) });
    return false;
  }
}

export const renameStoredLora = (id: string, name: string) => act(() => renameLora(id, name));
export const deleteStoredLora = (id: string) => act(() => deleteLora(id));

/** The LoRAs the prompts' tags name, as the engine takes them (UnknownLoraError for a name not imported). */
export async function resolveLoras(prompts: readonly string[]): Promise<GenerateLora[]> {
  const tags = mergeLoraTags(prompts);
  if (!tags.length) return [];
  const stored = await refreshLoras();
  return tags.map((t) => {
    const r = stored.find((l) => l.name === t.name);
    if (!r) throw new UnknownLoraError(t.name, stored.map((l) => l.name));
    return { name: r.name, id: r.id, hash: r.hash, te: t.te, unet: t.unet };
  });
}
