/**
 * Which plain LoRAs a run uses (issue 13 point 1): the `<lora:name:w>` tags of its prompt, negative
 * prompt and region prompts (model/lora/prompt-tags.ts), matched by name to the files the page resolved
 * (GenerateParams.loras). The tags are cut out of every prompt before the text encoders see it, as A1111
 * does. Regions: a LoRA changes every layer it targets (resnets, self-attention, feed-forwards), not
 * only the cross-attention that regional synthesis confines to a mask, so a region's LoRA cannot be
 * held inside that region exactly; it is applied to the whole image, and the run says so
 * (GenerateResult.loraNotices). Pure data, no GPU.
 */
import { mergeLoraTags, parseLoraTags } from '../model/lora/prompt-tags';
import type { GenerateLora, GenerateParams } from './protocol';

/** The prompt names a LoRA that is not in the run's list (not imported, or renamed). */
export class UnknownLoraError extends Error {
  override readonly name = 'UnknownLoraError';
  readonly code = 'lora-not-found';
  constructor(readonly loraName: string, known: readonly string[]) {
    super(
      `The prompt names the LoRA "${loraName}", but no LoRA of that name is imported` +
        (known.length ? ` (imported: ${known.join(', ')})` : '') +
        '. Import it on the Models page, or correct the name in the <lora:…> tag.',
    );
  }
}

export interface LoraRun {
  /** The parameters with every LoRA tag cut out of the prompts. */
  params: GenerateParams;
  /** The LoRAs to apply, each once, with the summed weights of its tags. */
  loras: GenerateLora[];
  /** Region prompts (1-based region numbers) that named LoRAs: applied to the whole image. */
  regionNotices: string[];
}

/**
 * Resolves the tags of every prompt against `params.loras` (by name; the weights come from the tags).
 * Entries of `params.loras` that no tag names are applied as they are (a caller without tags).
 */
export function loraRun(params: GenerateParams): LoraRun {
  const stored = params.loras ?? [];
  const regions = params.regions ?? [];
  const prompts = [params.prompt, params.negativePrompt, ...regions.flatMap((r) => [r.prompt, r.negativePrompt])];
  const tags = mergeLoraTags(prompts);
  const loras: GenerateLora[] = [];
  for (const t of tags) {
    const s = stored.find((l) => l.name === t.name);
    if (!s) throw new UnknownLoraError(t.name, stored.map((l) => l.name));
    loras.push({ ...s, te: t.te, unet: t.unet });
  }
  for (const s of stored) if (!tags.some((t) => t.name === s.name)) loras.push(s);
  const strip = (p: string) => parseLoraTags(p).text;
  const regionNotices = regions.flatMap((r, i) => (parseLoraTags(r.prompt).tags.length || parseLoraTags(r.negativePrompt).tags.length ? [`region ${i + 1}`] : []));
  return {
    params: {
      ...params,
      prompt: strip(params.prompt),
      negativePrompt: strip(params.negativePrompt),
      ...(params.regions ? { regions: regions.map((r) => ({ ...r, prompt: strip(r.prompt), negativePrompt: strip(r.negativePrompt) })) } : {}),
    },
    loras: loras.filter((l) => l.te !== 0 || l.unet !== 0),
    regionNotices,
  };
}

/** The cache key of a LoRA set with its weights (the order of application is part of it: f16 sums round). */
export function loraSetKey(loras: readonly GenerateLora[]): string {
  return JSON.stringify(loras.map((l) => [l.id, l.te, l.unet]));
}

/** Where the LoRA store keeps a LoRA's file in OPFS (storage/loras writes it, the worker reads it). */
export const LORA_OPFS_DIR = 'loras';
export const loraOpfsPath = (id: string): string[] => [LORA_OPFS_DIR, `${id}.safetensors`];
