/**
 * AUTOMATIC1111's prompt syntax for plain LoRAs (issue 13 point 1): `<lora:name>`, `<lora:name:w>` or
 * `<lora:name:w_te:w_unet>`. As A1111 does (modules/extra_networks.py: re_extra_net =
 * `<(\w+):([^>]+)>`, the tag's text split on ':', then removed from the prompt by re.sub), a tag is cut
 * out of the prompt and the rest, spaces and commas as they stand, goes to the text encoders; the
 * weight defaults to 1, and the text-encoder weight is the UNet's unless a third field gives it
 * (extensions-builtin/Lora/extra_networks_lora.py: te = positional[1], unet = positional[2] or te).
 * Named `te=`/`unet=` fields are read the same way. A name may hold anything but ':' and '>'.
 *
 * Only `lora` (and A1111's alias `lyco`) tags are taken; other extra-network tags (`<hypernet:…>`) and
 * CIDM concept words such as `<rex1>` (no colon) stay in the text.
 */

/** One `<lora:…>` tag of a prompt. */
export interface LoraTag {
  name: string;
  /** Multiplier of the text-encoder layers. */
  te: number;
  /** Multiplier of the UNet layers. */
  unet: number;
}

/** A tag that names a LoRA but cannot be read (no name, a weight that is not a number). */
export class LoraTagSyntaxError extends Error {
  override readonly name = 'LoraTagSyntaxError';
  readonly code = 'lora-tag-syntax';
  constructor(readonly tag: string, detail: string) {
    super(`The prompt's tag "${tag}" ${detail}. Write it as <lora:name:0.8> (name, then the weight).`);
  }
}

const TAG = /<(lora|lyco):([^>]*)>/g;

function weight(tag: string, text: string): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) throw new LoraTagSyntaxError(tag, `has the weight "${text}", which is not a number`);
  return v;
}

function readTag(tag: string, body: string): LoraTag {
  const fields = body.split(':');
  const name = fields[0]!.trim();
  if (!name) throw new LoraTagSyntaxError(tag, 'names no LoRA');
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const f of fields.slice(1)) {
    const m = /^\s*(te|unet|dyn)\s*=(.*)$/.exec(f);
    if (m) named.set(m[1]!, m[2]!);
    else positional.push(f);
  }
  if (positional.length > 3) throw new LoraTagSyntaxError(tag, 'has more fields than name, weight, UNet weight and rank');
  let te = positional[0] !== undefined ? weight(tag, positional[0]) : 1;
  if (named.has('te')) te = weight(tag, named.get('te')!);
  let unet = positional[1] !== undefined ? weight(tag, positional[1]) : te;
  if (named.has('unet')) unet = weight(tag, named.get('unet')!);
  return { name, te, unet };
}

/** The prompt without its LoRA tags (what the text encoders read) and the tags in prompt order. */
export function parseLoraTags(prompt: string): { text: string; tags: LoraTag[] } {
  const tags: LoraTag[] = [];
  const text = prompt.replace(TAG, (tag, _kind: string, body: string) => {
    tags.push(readTag(tag, body));
    return '';
  });
  return { text, tags };
}

/**
 * The tags of several prompts merged per name (first-seen order). A1111 applies a name written twice
 * twice; a LoRA is linear in its multiplier, so that is one application with the summed weights.
 */
export function mergeLoraTags(prompts: readonly string[]): LoraTag[] {
  const byName = new Map<string, LoraTag>();
  for (const p of prompts) {
    for (const t of parseLoraTags(p).tags) {
      const prev = byName.get(t.name);
      byName.set(t.name, prev ? { name: t.name, te: prev.te + t.te, unet: prev.unet + t.unet } : t);
    }
  }
  return [...byName.values()];
}

/** `<lora:name:w>` as the picker inserts it (weights rounded to 2 decimals, as A1111's slider steps). */
export function formatLoraTag(name: string, w: number): string {
  return `<lora:${name}:${Number(w.toFixed(2))}>`;
}

/** Whether a LoRA name can be written in a tag (and in A1111's `Lora hashes`, which splits on ',' and ':'). */
export function isValidLoraName(name: string): boolean {
  return name.trim() === name && name.length > 0 && name.length <= 100 && !/[:>,<\n]/.test(name);
}
