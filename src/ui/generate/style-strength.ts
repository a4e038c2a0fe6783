/**
 * Style strength for plain LoRAs (issue 14 point 4): the weight of a LoRA named in the prompt, set
 * beside the image strength. The prompt stays the one source of truth (LoraPicker.tsx says why), so
 * setting a style strength rewrites that LoRA's `<lora:name:…>` tags to one weight (A1111's
 * single-weight form: text encoder and UNet alike, model/lora/prompt-tags.ts).
 */
import { formatLoraTag, mergeLoraTags, type LoraTag } from '../../model/lora/prompt-tags';

/** The LoRAs of a prompt with the weights the run applies (tags of one name summed), or [] when a tag cannot be read. */
export function styleLoras(prompt: string): LoraTag[] {
  try {
    return mergeLoraTags([prompt]);
  } catch {
    return [];
  }
}

/**
 * The prompt with `name`'s first tag written as `<lora:name:w>` and its other tags removed (they
 * would add up), other text untouched: the run then applies exactly w.
 */
export function setLoraWeight(prompt: string, name: string, w: number): string {
  let first = true;
  return prompt.replace(/<(lora|lyco):([^>]*)>/g, (tag, _kind: string, body: string) => {
    if (body.split(':')[0]!.trim() !== name) return tag;
    const out = first ? formatLoraTag(name, w) : '';
    first = false;
    return out;
  });
}
