/**
 * The engine's wire protocol (DESIGN.md, "the engine is one interface with an in-thread and a worker
 * implementation"): typed requests from the page, typed events back. Progress is a union on `status`;
 * errors cross as {name, code, message} and become classes again on the page (errors.ts).
 * Everything here is structured-cloneable plain data.
 */
import type { AdapterSummary, SerializedError } from '../gpu';
import type { TextToImageParams } from '../diffusion/text-to-image';

/** Where the engine finds a model: the OPFS store (by id) — the only kind a worker can be sent. */
export interface StoredModelRef {
  type: 'stored';
  id: string;
}

export type Precision = 'auto' | 'f16' | 'f32';

/** The loop's parameters (diffusion/text-to-image.ts) as the page sends them, plus the engine's own options. */
export interface GenerateParams extends Omit<TextToImageParams, 'negativePrompt' | 'initLatents' | 'lowMemory'> {
  negativePrompt: string;
  /** Latent preview every N steps (0: none). */
  previewEvery?: number;
  /** 'low': CFG passes one after another, smaller VAE tiles, idle GPU buffers freed after the run. */
  memoryMode?: 'balanced' | 'low';
  /** Painted regions (CIDM context-controllable synthesis, spec §4): soft masks at width×height, 0..1. */
  regions?: GenerateRegion[];
  /** s of Eq. 4 for the region estimates (default 7.5) and α of Eq. 5 (default 0.1). */
  regionGuidance?: number;
  regionAlpha?: number;
}

export interface GenerateRegion {
  name?: string;
  color?: string;
  prompt: string;
  negativePrompt: string;
  mask: Float32Array<ArrayBuffer>;
}

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA8 row-major; transferred, not copied, across the worker boundary. */
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

export type EngineProgress =
  | { status: 'device' }
  | { status: 'load'; component: string; done: number; total: number }
  | { status: 'compile'; compiled: number }
  | { status: 'encode' }
  | { status: 'step'; step: number; steps: number; preview: RgbaImage | null; elapsedMs: number }
  | { status: 'decode' }
  | { status: 'done' };

export interface LoadedModelInfo {
  id: string;
  dtype: 'f16' | 'f32';
  /** Bytes of weights on the GPU. */
  gpuBytes: number;
  loadMs: number;
}

export interface GenerateResult {
  image: RgbaImage;
  params: GenerateParams;
  modelId: string;
  dtype: 'f16' | 'f32';
  timings: { encodeMs: number; stepsMs: number; decodeMs: number; totalMs: number };
}

export interface EngineStatus {
  adapter: AdapterSummary | null;
  f16: boolean;
  model: LoadedModelInfo | null;
}

export type EngineRequest =
  | { kind: 'status'; id: number }
  | { kind: 'load'; id: number; model: StoredModelRef; precision: Precision }
  | { kind: 'generate'; id: number; params: GenerateParams }
  | { kind: 'unload'; id: number }
  /** Aborts the request `target` (load or generate). */
  | { kind: 'cancel'; id: number; target: number };

export type EngineEvent =
  | { kind: 'progress'; id: number; progress: EngineProgress }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: SerializedError }
  /** The GPU device was lost; the engine has dropped the model and will make a new device on the next request. */
  | { kind: 'device-lost'; error: SerializedError };

/** The result type of each request kind. */
export interface EngineResults {
  status: EngineStatus;
  load: LoadedModelInfo;
  generate: GenerateResult;
  unload: null;
}
