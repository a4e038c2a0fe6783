/**
 * Run estimates from this adapter's own measured step times (issue 13, point 2). A finished run records
 * its mean step time and its fixed cost (prompt encoding + VAE decode) under (adapter, model, size);
 * an estimate uses the same size when measured, else the nearest measured size of the same adapter
 * and model scaled by the pixel count (the UNet's convolutions, most of a step, are linear in pixels;
 * attention grows faster, so a larger size is scaled by pixels^ATTENTION_EXPONENT to err long, not short).
 * Plain functions over a plain table; step-times-store.ts keeps the table in IndexedDB.
 */
import type { AdapterSummary } from '../../gpu';

export interface StepTime {
  /** Mean milliseconds per sampling step (exponential moving average over runs). */
  msPerStep: number;
  /** Milliseconds of a run outside the steps (encode + decode). */
  fixedMs: number;
  runs: number;
}

/** Keyed by stepTimeKey(adapter, model, width, height). */
export type StepTimeTable = Readonly<Record<string, StepTime>>;

/** New runs weigh 1/2: the first runs of a session pay for kernel compiles, later ones are truer. */
const EMA = 0.5;
/** Scaling a measurement up to a larger size: pixels^1.15 (more than linear, for attention's O(n²)). */
const ATTENTION_EXPONENT = 1.15;
/** Above this, the form warns and offers a smaller setting (seconds per Generate). */
export const LONG_RUN_SECONDS = 120;

export function adapterKey(a: Pick<AdapterSummary, 'vendor' | 'architecture' | 'description'>): string {
  return [a.vendor, a.architecture, a.description].map((s) => s.trim()).join('/');
}

export function stepTimeKey(adapter: string, modelId: string, width: number, height: number): string {
  return `${adapter}|${modelId}|${width}x${height}`;
}

function parseKey(key: string): { prefix: string; pixels: number } | null {
  const m = /^(.*)\|(\d+)x(\d+)$/.exec(key);
  return m ? { prefix: m[1]!, pixels: Number(m[2]) * Number(m[3]) } : null;
}

/**
 * The table with one more finished run (steps ≥ 1; a run without steps teaches nothing). A run that
 * compiled kernels (the session's first, 'compile' progress) is far slower than the next ones: it is
 * kept only as a provisional entry (runs 0) while nothing better is known, and the first warm run
 * replaces it instead of averaging with it.
 */
export function recordRun(table: StepTimeTable, key: string, run: { steps: number; stepsMs: number; otherMs: number; compiled?: boolean }): StepTimeTable {
  if (!(run.steps >= 1) || !(run.stepsMs >= 0)) return table;
  const msPerStep = run.stepsMs / run.steps;
  const old = table[key];
  if (run.compiled) return old ? table : { ...table, [key]: { msPerStep, fixedMs: Math.max(0, run.otherMs), runs: 0 } };
  const next: StepTime = old && old.runs > 0
    ? { msPerStep: old.msPerStep * (1 - EMA) + msPerStep * EMA, fixedMs: old.fixedMs * (1 - EMA) + run.otherMs * EMA, runs: old.runs + 1 }
    : { msPerStep, fixedMs: Math.max(0, run.otherMs), runs: 1 };
  return { ...table, [key]: next };
}

export interface EstimateInput {
  adapter: string;
  modelId: string;
  width: number;
  height: number;
  steps: number;
  images: number;
}

export interface Estimate {
  seconds: number;
  /** 'measured': this very size ran here before; 'scaled': from another size of the same model. */
  basis: 'measured' | 'scaled';
}

/** Seconds for the whole Generate (all images), or null when this adapter has not run this model yet. */
export function estimateRun(table: StepTimeTable, q: EstimateInput): Estimate | null {
  const key = stepTimeKey(q.adapter, q.modelId, q.width, q.height);
  const images = Math.max(1, q.images);
  const exact = table[key];
  if (exact) return { seconds: (images * (exact.msPerStep * q.steps + exact.fixedMs)) / 1000, basis: 'measured' };
  const prefix = `${q.adapter}|${q.modelId}`;
  const pixels = q.width * q.height;
  let best: { t: StepTime; pixels: number } | null = null;
  for (const [k, t] of Object.entries(table)) {
    const p = parseKey(k);
    if (!p || p.prefix !== prefix) continue;
    if (!best || Math.abs(Math.log(p.pixels / pixels)) < Math.abs(Math.log(best.pixels / pixels))) best = { t, pixels: p.pixels };
  }
  if (!best) return null;
  const ratio = pixels / best.pixels;
  const scale = ratio > 1 ? ratio ** ATTENTION_EXPONENT : ratio;
  return { seconds: (images * (best.t.msPerStep * scale * q.steps + best.t.fixedMs * ratio)) / 1000, basis: 'scaled' };
}

export interface RunSize {
  width: number;
  height: number;
  steps: number;
}

/**
 * A smaller setting that fits `limitSeconds`: first fewer steps (down to 20), then the long side
 * halved (keeping the aspect, on the model's latent grid, not below `minSide`), then steps down to 8.
 * Returns the first that fits, else the smallest tried; null when nothing smaller exists.
 */
export function smallerSetting(current: RunSize, estimate: (s: RunSize) => number | null, o: { factor: number; minSide: number; limitSeconds?: number }): RunSize | null {
  const limit = o.limitSeconds ?? LONG_RUN_SECONDS;
  const snap = (v: number) => Math.max(o.minSide, Math.round(v / o.factor) * o.factor);
  const tried: RunSize[] = [];
  let s = { ...current };
  if (s.steps > 20) tried.push((s = { ...s, steps: 20 }));
  while (Math.max(s.width, s.height) / 2 >= o.minSide && Math.max(s.width, s.height) > 256) {
    s = { ...s, width: snap(s.width / 2), height: snap(s.height / 2) };
    tried.push(s);
  }
  if (s.steps > 8) tried.push((s = { ...s, steps: 8 }));
  if (!tried.length) return null;
  return tried.find((t) => (estimate(t) ?? Infinity) <= limit) ?? tried[tried.length - 1]!;
}

/** Software (CPU) adapters: the fallback flag, or the names of the software rasterizers in its info. */
export function isCpuAdapter(a: Pick<AdapterSummary, 'vendor' | 'architecture' | 'description' | 'device' | 'isFallbackAdapter'>): boolean {
  return a.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
}

/** The Generate defaults for a first visit: a CPU adapter starts small and short (minutes, not an hour). */
export function adapterDefaults(a: Parameters<typeof isCpuAdapter>[0]): RunSize | null {
  return isCpuAdapter(a) ? { width: 512, height: 512, steps: 12 } : null;
}
