/**
 * The storage view's arithmetic, kept pure so that it can be tested without a browser: which concern
 * a stored thing belongs to, the table of concerns (bytes and item count each) whose "Studio total" is
 * exactly the sum of its rows, and how that total sits beside the browser's estimate.
 *
 * The browser's estimate (navigator.storage.estimate) is measured separately and can lag behind
 * writes by seconds, or leave some storage out (OPFS in some Chromium versions), so it can be smaller
 * than what the studio counts. The view then says so, and "used" is the larger of the two: the bar
 * never shows the models as bigger than what it calls used.
 */

/** Every concern the studio stores, in the table's order. */
export const CONCERNS = [
  { key: 'models', label: 'Models', noun: 'model', what: 'Verified model weights (OPFS).' },
  { key: 'imports', label: 'Unfinished imports', noun: 'import', what: 'Failed or cancelled model imports: the bytes copied so far (OPFS).' },
  { key: 'gallery', label: 'Gallery', noun: 'image', what: 'Generated images, each a PNG with its parameters.' },
  { key: 'scenes', label: 'Scenes', noun: 'scene', what: 'Saved scenes: layers, prompts and painted masks.' },
  { key: 'concepts', label: 'Concepts', noun: 'concept', what: 'Taught concepts: weights, photos, masks, samples and previews.' },
  { key: 'training', label: 'Training jobs', noun: 'job', what: 'Queued or unfinished training: its photos and checkpoints.' },
  { key: 'loras', label: 'LoRAs', noun: 'LoRA', what: 'Imported LoRA files and their records.' },
  { key: 'app', label: 'App files', noun: 'file', what: 'The studio itself, kept for offline use.' },
  { key: 'other', label: 'Settings and other', noun: 'entry', what: 'Settings, the Generate draft, cached hashes and scores, anything else.' },
] as const;

export type ConcernKey = (typeof CONCERNS)[number]['key'];

/** One measured piece (a database, an OPFS folder, a cache) before it is added into its concern. */
export interface UsagePart {
  key: ConcernKey;
  bytes: number;
  /** Items this part adds to its concern's count (0 for a part that only adds bytes, such as checkpoints). */
  count: number;
}

export interface ConcernUsage {
  key: ConcernKey;
  label: string;
  /** Singular noun for the count ("3 images"). */
  noun: string;
  what: string;
  count: number;
  bytes: number;
}

/** The table: one row per concern (all of them, empty ones included), each the sum of its parts. */
export function concernTable(parts: readonly UsagePart[]): ConcernUsage[] {
  return CONCERNS.map((c) => {
    const mine = parts.filter((p) => p.key === c.key);
    return { ...c, count: mine.reduce((a, p) => a + p.count, 0), bytes: mine.reduce((a, p) => a + p.bytes, 0) };
  });
}

/** The "Studio total": exactly the sum of the rows' bytes. */
export function studioTotal(rows: readonly Pick<ConcernUsage, 'bytes'>[]): number {
  return rows.reduce((a, r) => a + r.bytes, 0);
}

/** Names of the studio's IndexedDB databases and the concern each belongs to (the rest are "other"). */
const DATABASES: Record<string, { key: ConcernKey; counts: boolean }> = {
  'cidm-gallery': { key: 'gallery', counts: true },
  'cidm-scenes': { key: 'scenes', counts: true },
  'cidm-concepts': { key: 'concepts', counts: true },
  'cidm-training-jobs': { key: 'training', counts: true },
  // A job's checkpoints belong to the job: bytes, not items.
  'cidm-training-checkpoints': { key: 'training', counts: false },
  // One record per LoRA: the count; its file's bytes are in OPFS loras/.
  'cidm-loras': { key: 'loras', counts: true },
};

export function databaseConcern(name: string): { key: ConcernKey; counts: boolean } {
  return DATABASES[name] ?? { key: 'other', counts: true };
}

/**
 * The concern of a top-level OPFS entry other than a model folder: `loras` holds the LoRA files
 * (counted by their records), anything else is "other" (one item per file).
 */
export function opfsConcern(topName: string): { key: ConcernKey; counts: boolean } {
  return topName === 'loras' ? { key: 'loras', counts: false } : { key: 'other', counts: true };
}

export interface UsageSegment {
  key: ConcernKey | 'unattributed';
  label: string;
  bytes: number;
  /** Share of the bar, 0..1 (0 when the quota is unknown). */
  fraction: number;
}

export interface StorageSummary {
  /** The sum of the rows. */
  studioTotal: number;
  /** What the browser says it stores for the site, or null where it says nothing. */
  browserUsage: number | null;
  /** What the view calls used: the larger of the browser's estimate and the studio total. */
  used: number;
  /** The site's quota (0 when unknown). */
  quota: number;
  /** quota − used, never below 0. */
  available: number;
  /** The browser's estimate is below what the studio counts (it lags, or leaves some storage out). */
  browserLags: boolean;
  /** Used, 0..1 of the quota (0 when unknown). */
  usedFraction: number;
  /** The bar: each non-empty concern, then what the browser counts beyond them. Adds up to `used`. */
  segments: UsageSegment[];
}

export function storageSummary(estimate: { usage: number; quota: number } | null, rows: readonly ConcernUsage[]): StorageSummary {
  const total = studioTotal(rows);
  const browserUsage = estimate ? estimate.usage : null;
  const used = Math.max(browserUsage ?? 0, total);
  const quota = estimate ? estimate.quota : 0;
  // The bar's whole is the quota; a quota below "used" (a lagging quota) is widened so the bar never overflows.
  const whole = quota > 0 ? Math.max(quota, used) : 0;
  const share = (bytes: number) => (whole > 0 ? bytes / whole : 0);
  const segments: UsageSegment[] = rows.filter((r) => r.bytes > 0).map((r) => ({ key: r.key, label: r.label, bytes: r.bytes, fraction: share(r.bytes) }));
  const beyond = used - total;
  // What the browser counts that the studio cannot name: database and file-system overhead.
  if (beyond > 0) segments.push({ key: 'unattributed', label: 'Browser overhead', bytes: beyond, fraction: share(beyond) });
  return {
    studioTotal: total,
    browserUsage,
    used,
    quota,
    available: Math.max(0, quota - used),
    browserLags: browserUsage !== null && browserUsage < total,
    usedFraction: share(used),
    segments,
  };
}
