/**
 * A concept library entry and its schema versions (the gallery's pattern: records carry `v`, and
 * `upgradeConceptRecord` brings an older one to the current shape, one step per version).
 *   v1: { v:1, ...Concept metadata, thumbnails, samples, lossCurve, tensorIndex, tensors: Blob }
 * The tensors (layer-wise tokens per text encoder, LoRA down/up per attn2 linear) are packed into one
 * f32 buffer with an index name → (offset, shape); the names are the training and export names
 * (token_embeds_<k>, <module>.lora_down.weight / .lora_up.weight, src/cidm/train/cidm-params.ts).
 * The packed buffer is stored as a Blob inside the one record: a record is one IndexedDB put (atomic),
 * and browsers keep a stored Blob on disk until it is read, so listing the library does not load
 * every concept's ~12 MB (SDXL) of tensors.
 */
import type { Concept, ConceptHyper, ConceptLora } from '../../cidm/concepts/concept';
import { downName, tokenName, upName } from '../../cidm/train/cidm-params';
import { ConceptRecordError } from './errors';

export const CONCEPT_SCHEMA_VERSION = 1;

/** A picture generated with the concept after training (shown on its card). */
export interface ConceptSample {
  image: Blob;
  prompt: string;
  seed?: number;
}

/** What the library keeps beside the learned tensors. */
export interface ConceptMedia {
  /** Small PNG/WebP thumbnails of the training photos. */
  thumbnails: Blob[];
  samples: ConceptSample[];
  /** Training loss per step. */
  lossCurve: number[];
  /**
   * The training photos as trained (square crops at the training resolution, PNG) and their painted
   * masks (grey PNG, or null): the forgetting dashboard scores the concept on them after later tasks.
   */
  trainingPhotos?: { image: Blob; mask: Blob | null }[];
  /** The caption template it was trained with ('object', 'style' or a custom caption). */
  captionTemplate?: string;
}

export type StoredConcept = Concept & ConceptMedia;
export type ConceptMeta = Omit<Concept, 'tokens' | 'lora'>;

/** One tensor in the packed buffer: `offset` in f32 elements, row-major `shape`. */
export interface PackedTensor {
  name: string;
  offset: number;
  shape: number[];
}

export interface PackedTensors {
  /** In pack order: token tables by encoder, then per LoRA module (in the concept's order) down, up. */
  index: PackedTensor[];
  /** Little-endian f32 values, tensors back to back. */
  data: ArrayBuffer;
}

export interface ConceptRecordV1 extends ConceptMeta, ConceptMedia {
  v: 1;
  tensorIndex: PackedTensor[];
  /** PackedTensors.data as a Blob (application/octet-stream). */
  tensors: Blob;
}

export type ConceptRecord = ConceptRecordV1;

/** What the library list shows: everything but the tensors. */
export interface ConceptSummary extends ConceptMeta, ConceptMedia {
  /** Bytes of the packed tensors. */
  tensorBytes: number;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The concept's metadata, copied field by field (nothing else of a caller's object is stored). */
export function conceptMeta(c: ConceptMeta): ConceptMeta {
  return {
    id: c.id,
    name: c.name,
    classWord: c.classWord,
    placeholders: [...c.placeholders],
    taskIndex: c.taskIndex,
    layers: c.layers,
    rank: c.rank,
    tokenWidths: [...c.tokenWidths],
    hyper: { ...c.hyper },
    modelId: c.modelId,
    createdAt: c.createdAt,
  };
}

/** The concept's tensors with their shapes, checked against its metadata. */
export function conceptTensors(c: Concept): { name: string; shape: number[]; data: Float32Array }[] {
  const P = c.placeholders.length;
  if (c.tokens.length !== c.tokenWidths.length) throw new RangeError(`concept ${c.id}: ${c.tokens.length} token tables for ${c.tokenWidths.length} text encoders`);
  const out: { name: string; shape: number[]; data: Float32Array }[] = [];
  c.tokens.forEach((data, k) => out.push({ name: tokenName(k), shape: [c.layers, P, c.tokenWidths[k]!], data }));
  for (const [module, l] of c.lora) {
    out.push({ name: downName(module), shape: [c.rank, l.inFeatures], data: l.down });
    out.push({ name: upName(module), shape: [l.outFeatures, c.rank], data: l.up });
  }
  for (const t of out) {
    if (t.data.length !== numel(t.shape)) throw new RangeError(`concept ${c.id}: ${t.name} has ${t.data.length} values, its shape [${t.shape.join(', ')}] needs ${numel(t.shape)}`);
  }
  return out;
}

export function packConceptTensors(c: Concept): PackedTensors {
  const tensors = conceptTensors(c);
  const total = tensors.reduce((a, t) => a + t.data.length, 0);
  const flat = new Float32Array(total);
  const index: PackedTensor[] = [];
  let at = 0;
  for (const t of tensors) {
    flat.set(t.data, at);
    index.push({ name: t.name, offset: at, shape: t.shape });
    at += t.data.length;
  }
  return { index, data: flat.buffer };
}

/**
 * The tokens and LoRA of a packed buffer, as views into `data` (no copy). Every index entry must be
 * used, lie inside the buffer and have the shape the metadata implies.
 */
export function unpackConceptTensors(p: PackedTensors, meta: ConceptMeta): Pick<Concept, 'tokens' | 'lora'> {
  const bad = (why: string) => new ConceptRecordError(`Concept ${meta.id} ("${meta.name}") has damaged tensors: ${why}.`);
  if (p.data.byteLength % 4 !== 0) throw bad(`${p.data.byteLength} bytes is not a whole number of f32 values`);
  const size = p.data.byteLength / 4;
  const byName = new Map<string, PackedTensor>();
  for (const e of p.index) {
    const n = numel(e.shape);
    if (!Number.isSafeInteger(e.offset) || e.offset < 0 || e.offset + n > size) throw bad(`${e.name} [${e.offset}, +${n}) is outside the ${size} values`);
    if (byName.has(e.name)) throw bad(`${e.name} is listed twice`);
    byName.set(e.name, e);
  }
  const view = (e: PackedTensor) => new Float32Array(p.data, e.offset * 4, numel(e.shape));
  const used = new Set<string>();
  const take = (name: string, shape?: readonly number[]): PackedTensor => {
    const e = byName.get(name);
    if (!e) throw bad(`${name} is missing`);
    if (shape && (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i]))) throw bad(`${name} is [${e.shape.join(', ')}], expected [${shape.join(', ')}]`);
    used.add(name);
    return e;
  };
  const tokens = meta.tokenWidths.map((h, k) => view(take(tokenName(k), [meta.layers, meta.placeholders.length, h])));
  const lora = new Map<string, ConceptLora>();
  for (const e of p.index) {
    const m = /^(.+)\.lora_down\.weight$/.exec(e.name);
    if (!m) continue;
    const down = take(e.name);
    const up = take(upName(m[1]!));
    if (down.shape.length !== 2 || up.shape.length !== 2 || down.shape[0] !== meta.rank || up.shape[1] !== meta.rank) {
      throw bad(`${m[1]} has down [${down.shape.join(', ')}] and up [${up.shape.join(', ')}], not a rank-${meta.rank} pair`);
    }
    lora.set(m[1]!, { down: view(down), up: view(up), inFeatures: down.shape[1]!, outFeatures: up.shape[0]! });
  }
  const extra = p.index.find((e) => !used.has(e.name));
  if (extra) throw bad(`${extra.name} belongs to no token table or LoRA pair`);
  return { tokens, lora };
}

/** The stored record of a concept (one put): metadata, media and the packed tensors. */
export function encodeConceptRecord(c: Concept & Partial<ConceptMedia>): ConceptRecord {
  const packed = packConceptTensors(c);
  return {
    v: 1,
    ...conceptMeta(c),
    thumbnails: [...(c.thumbnails ?? [])],
    samples: (c.samples ?? []).map((s) => ({ ...s })),
    lossCurve: [...(c.lossCurve ?? [])],
    ...(c.trainingPhotos ? { trainingPhotos: c.trainingPhotos.map((p) => ({ ...p })) } : {}),
    ...(c.captionTemplate !== undefined ? { captionTemplate: c.captionTemplate } : {}),
    tensorIndex: packed.index,
    tensors: new Blob([packed.data], { type: 'application/octet-stream' }),
  };
}

export async function decodeConceptRecord(r: ConceptRecord): Promise<StoredConcept> {
  const data = await r.tensors.arrayBuffer();
  const meta = conceptMeta(r);
  return { ...meta, ...unpackConceptTensors({ index: r.tensorIndex, data }, meta), thumbnails: r.thumbnails, samples: r.samples, lossCurve: r.lossCurve, ...optionalMedia(r) };
}

/** The media fields a record may lack (added within schema v1; absent on older records). */
function optionalMedia(r: ConceptRecord): Pick<ConceptMedia, 'trainingPhotos' | 'captionTemplate'> {
  return { ...(r.trainingPhotos ? { trainingPhotos: r.trainingPhotos } : {}), ...(r.captionTemplate !== undefined ? { captionTemplate: r.captionTemplate } : {}) };
}

export function summarizeConcept(r: ConceptRecord): ConceptSummary {
  return { ...conceptMeta(r), thumbnails: r.thumbnails, samples: r.samples, lossCurve: r.lossCurve, ...optionalMedia(r), tensorBytes: r.tensors.size };
}

/** Approximate stored bytes of a record: its Blobs and the loss curve (the rest is a few hundred bytes). */
export function conceptRecordBytes(r: ConceptRecord): number {
  return r.tensors.size + r.thumbnails.reduce((a, b) => a + b.size, 0) + r.samples.reduce((a, s) => a + s.image.size, 0) + (r.trainingPhotos ?? []).reduce((a, p) => a + p.image.size + (p.mask?.size ?? 0), 0) + 8 * r.lossCurve.length + 1024;
}

/** Whether `h` has every ConceptHyper field with its type. */
export function isConceptHyper(h: unknown): h is ConceptHyper {
  if (!h || typeof h !== 'object') return false;
  const o = h as Record<string, unknown>;
  const nums = ['steps', 'lrLora', 'lrTokens', 'rank', 'seed', 'resolution', 'gamma'];
  return nums.every((k) => typeof o[k] === 'number') && typeof o.masked === 'boolean' && (o.r1Form === 'code' || o.r1Form === 'paper');
}

/** Any stored version → the current record; a record from a newer studio or of unknown shape is refused. */
export function upgradeConceptRecord(raw: unknown): ConceptRecord {
  const r = raw as Record<string, unknown> | null;
  if (!r || typeof r !== 'object' || typeof r.id !== 'string') throw new ConceptRecordError('A stored concept has no id.');
  if (r.v !== 1) {
    throw new ConceptRecordError(`Concept ${r.id} has schema version ${String(r.v)}; this studio reads up to ${CONCEPT_SCHEMA_VERSION}.`);
  }
  const ok =
    typeof r.name === 'string' && typeof r.classWord === 'string' && typeof r.modelId === 'string' &&
    Array.isArray(r.placeholders) && Array.isArray(r.tokenWidths) && Array.isArray(r.tensorIndex) &&
    [r.taskIndex, r.layers, r.rank, r.createdAt].every((x) => typeof x === 'number') &&
    isConceptHyper(r.hyper) && typeof Blob !== 'undefined' && r.tensors instanceof Blob &&
    Array.isArray(r.thumbnails) && Array.isArray(r.samples) && Array.isArray(r.lossCurve);
  if (!ok) throw new ConceptRecordError(`Concept ${r.id} is missing fields of schema version 1.`);
  return r as unknown as ConceptRecordV1;
}

// ---- library views (pure; the store applies them to the stored summaries) ----

/** Task order (taskIndex), then creation time, then id: the order training and EWA see the tasks in. */
export function compareConcepts(a: ConceptMeta, b: ConceptMeta): number {
  return a.taskIndex - b.taskIndex || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Whether every whitespace-separated term of `query` occurs (case-insensitive) in the name, the class
 * word or a placeholder ("dog1" finds "<dog1>"). An empty query matches everything.
 */
export function matchesConceptQuery(c: Pick<ConceptMeta, 'name' | 'classWord' | 'placeholders'>, query: string): boolean {
  const hay = [c.name, c.classWord, ...c.placeholders].map((s) => s.toLowerCase());
  return query.toLowerCase().split(/\s+/).filter(Boolean).every((t) => hay.some((s) => s.includes(t)));
}

/**
 * The concepts trained after `target` on the same model: their consolidation loss (spec §2.2) was
 * computed against `target`'s LoRA, so deleting it leaves them regularised against a task that is gone.
 */
export function consolidatedAgainst<T extends ConceptMeta>(target: ConceptMeta, all: readonly T[]): T[] {
  return all.filter((c) => c.id !== target.id && c.modelId === target.modelId && c.taskIndex > target.taskIndex).sort(compareConcepts);
}

/** The task index the next concept trained on `modelId` gets (1 for the first). */
export function nextTaskIndex(all: readonly ConceptMeta[], modelId: string): number {
  return all.reduce((m, c) => (c.modelId === modelId ? Math.max(m, c.taskIndex) : m), 0) + 1;
}
