/**
 * A concept as ONE .safetensors file, for moving it between studios (and back into the library):
 *   __metadata__: format "cidm-studio-concept/1", id, name, classWord, placeholders (JSON array),
 *                 taskIndex, layers, rank, hyper (JSON object), modelId, createdAt — every value a
 *                 string, as the format requires (numbers and objects as JSON text);
 *   token_embeds_<k>            F32 [L, P, h_k]  (k = 1… per text encoder, in model order)
 *   <module>.lora_down.weight   F32 [rank, in]   (one pair per attn2 linear)
 *   <module>.lora_up.weight     F32 [out, rank]
 * The tensor names are the training names (src/cidm/train/cidm-params.ts). Export then import gives
 * the same concept bit for bit. Import checks everything against the metadata and says which of
 * "truncated", "corrupt", "not a concept" or "newer format" a bad file is.
 */
import type { Concept, ConceptLora } from '../../cidm/concepts/concept';
import { LORA_PROJECTIONS } from '../../cidm/train/layers';
import { ModelFileError } from '../../model/errors';
import { SafetensorsFile } from '../../model/safetensors/reader';
import { BlobSource, MemorySource } from '../../model/safetensors/source';
import { encodeSafetensors } from '../../model/safetensors/writer';
import { ConceptFileError } from './errors';
import { conceptTensors, isConceptHyper } from './record';

export const CONCEPT_FILE_FORMAT = 'cidm-studio-concept/1';
const FORMAT_PREFIX = 'cidm-studio-concept/';

export function exportConcept(c: Concept): Uint8Array<ArrayBuffer> {
  const metadata: Record<string, string> = {
    format: CONCEPT_FILE_FORMAT,
    id: c.id,
    name: c.name,
    classWord: c.classWord,
    placeholders: JSON.stringify(c.placeholders),
    taskIndex: JSON.stringify(c.taskIndex),
    layers: JSON.stringify(c.layers),
    rank: JSON.stringify(c.rank),
    hyper: JSON.stringify(c.hyper),
    modelId: c.modelId,
    createdAt: JSON.stringify(c.createdAt),
  };
  return encodeSafetensors(conceptTensors(c).map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: t.data })), metadata);
}

/** "a b" → "a-b", safe in file names on every OS. */
function slug(name: string): string {
  return name.trim().replace(/[^\p{L}\p{N}_-]+/gu, '-').replace(/^-+|-+$/g, '') || 'concept';
}

/** Suggested download names: the concept file, the kohya LoRA, and the embedding (whose file name A1111 and ComfyUI use as its prompt word). */
export function conceptFileName(c: Pick<Concept, 'name'>, kind: 'concept' | 'lora' | 'embedding'): string {
  const s = slug(c.name);
  return kind === 'concept' ? `${s}.cidm.safetensors` : kind === 'lora' ? `${s}-lora.safetensors` : `${s}.safetensors`;
}

/**
 * The order of a concept's LoRA modules: the UNet's traversal (down_blocks → mid_block → up_blocks,
 * numeric indices compared as numbers), then q, k, v, out inside an attn2: the trainer's order
 * (src/cidm/train/layers.ts), which a file's name-sorted tensors lose.
 */
export function compareLoraModules(a: string, b: string): number {
  const split = (m: string): [string[], number] => {
    const p = LORA_PROJECTIONS.findIndex((x) => m.endsWith(`.${x}`));
    return p < 0 ? [m.split('.'), -1] : [m.slice(0, -LORA_PROJECTIONS[p]!.length - 1).split('.'), p];
  };
  const [sa, pa] = split(a);
  const [sb, pb] = split(b);
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const x = sa[i]!;
    const y = sb[i]!;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return sa.length - sb.length || pa - pb || (a < b ? -1 : a > b ? 1 : 0);
}

function modelError(err: unknown, file: string): unknown {
  if (!(err instanceof ModelFileError) || err.code === 'io') return err;
  return new ConceptFileError(err.code === 'truncated' ? 'truncated' : 'corrupt', file, err.detail, err.tensor);
}

/** Reads a concept file (a picked File/Blob, or its bytes). The concept keeps the file's id; the caller decides about clashes. */
export async function importConcept(file: Blob | Uint8Array, name?: string): Promise<Concept> {
  const label = name ?? (typeof File !== 'undefined' && file instanceof File ? file.name : 'concept.safetensors');
  const source = file instanceof Uint8Array ? new MemorySource(file, label) : new BlobSource(file, label);
  let f: SafetensorsFile;
  try {
    f = await SafetensorsFile.open(source);
  } catch (err) {
    throw modelError(err, label);
  }
  try {
    return await readConcept(f, label);
  } catch (err) {
    throw modelError(err, label);
  } finally {
    await f.close();
  }
}

async function readConcept(f: SafetensorsFile, file: string): Promise<Concept> {
  const corrupt = (why: string, key?: string) => new ConceptFileError('corrupt', file, why, key);
  const md = f.metadata;
  const format = md.format;
  if (format === undefined || !format.startsWith(FORMAT_PREFIX)) {
    throw new ConceptFileError('not-a-concept', file, `its metadata has no "${CONCEPT_FILE_FORMAT}" format tag`);
  }
  if (format !== CONCEPT_FILE_FORMAT) {
    const v = Number(format.slice(FORMAT_PREFIX.length));
    if (Number.isInteger(v) && v > 1) throw new ConceptFileError('newer-format', file, `it is in format version ${v}; this studio reads version 1`);
    throw corrupt(`format tag "${format}" is not one this studio knows`, 'format');
  }
  const str = (key: string): string => {
    const s = md[key];
    if (s === undefined) throw corrupt('the metadata entry is missing', key);
    return s;
  };
  const parsed = (key: string): unknown => {
    try {
      return JSON.parse(str(key));
    } catch {
      throw corrupt('the metadata entry is not valid JSON', key);
    }
  };
  const count = (key: string, min: number): number => {
    const n = parsed(key);
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw corrupt(`${String(n)} is not a whole number ≥ ${min}`, key);
    return n;
  };
  const placeholders = parsed('placeholders');
  if (!Array.isArray(placeholders) || placeholders.length === 0 || !placeholders.every((p) => typeof p === 'string')) throw corrupt('not a non-empty list of words', 'placeholders');
  const hyper = parsed('hyper');
  if (!isConceptHyper(hyper)) throw corrupt('not a complete set of training settings', 'hyper');
  const createdAt = parsed('createdAt');
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) throw corrupt('not a time', 'createdAt');
  const layers = count('layers', 1);
  const rank = count('rank', 1);
  const P = placeholders.length;

  const tokenNames = new Map<number, string>();
  const downs = new Map<string, string>();
  const ups = new Map<string, string>();
  for (const n of f.names()) {
    let m: RegExpExecArray | null;
    if ((m = /^token_embeds_(\d+)$/.exec(n))) tokenNames.set(Number(m[1]), n);
    else if ((m = /^(.+)\.lora_down\.weight$/.exec(n))) downs.set(m[1]!, n);
    else if ((m = /^(.+)\.lora_up\.weight$/.exec(n))) ups.set(m[1]!, n);
    else throw corrupt('the tensor is not part of a concept', n);
  }
  if (tokenNames.size === 0) throw corrupt('the file has no token_embeds tensors');
  const tokens: Float32Array[] = [];
  const tokenWidths: number[] = [];
  for (let k = 1; k <= tokenNames.size; k++) {
    const n = tokenNames.get(k);
    if (!n) throw corrupt(`token tables are not numbered 1…${tokenNames.size}`, `token_embeds_${k}`);
    const s = f.info(n).shape;
    if (s.length !== 3 || s[0] !== layers || s[1] !== P || s[2]! < 1) throw corrupt(`shape [${s.join(', ')}] is not [layers ${layers}, placeholders ${P}, width]`, n);
    tokenWidths.push(s[2]!);
    tokens.push(await f.read(n, 'f32'));
  }
  if (downs.size === 0) throw corrupt('the file has no LoRA matrices');
  for (const m of ups.keys()) if (!downs.has(m)) throw corrupt('an up matrix without its down matrix', ups.get(m));
  const lora = new Map<string, ConceptLora>();
  for (const m of [...downs.keys()].sort(compareLoraModules)) {
    const dn = downs.get(m)!;
    const un = ups.get(m);
    if (!un) throw corrupt('a down matrix without its up matrix', dn);
    const d = f.info(dn).shape;
    const u = f.info(un).shape;
    if (d.length !== 2 || u.length !== 2 || d[0] !== rank || u[1] !== rank) throw corrupt(`down [${d.join(', ')}] and up [${u.join(', ')}] are not a rank-${rank} pair`, dn);
    lora.set(m, { down: await f.read(dn, 'f32'), up: await f.read(un, 'f32'), inFeatures: d[1]!, outFeatures: u[0]! });
  }
  return {
    id: str('id'),
    name: str('name'),
    classWord: str('classWord'),
    placeholders: placeholders as string[],
    taskIndex: count('taskIndex', 1),
    layers,
    rank,
    tokens,
    tokenWidths,
    lora,
    hyper,
    modelId: str('modelId'),
    createdAt,
  };
}
