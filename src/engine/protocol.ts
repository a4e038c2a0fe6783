/**
 * The engine's wire protocol (DESIGN.md, "the engine is one interface with an in-thread and a worker
 * implementation"): typed requests from the page, typed events back. Progress is a union on `status`;
 * errors cross as {name, code, message} and become classes again on the page (errors.ts).
 * Everything here is structured-cloneable plain data.
 */
import type { AdapterSummary, SerializedError } from '../gpu';
import type { TextToImageParams } from '../diffusion/text-to-image';
import type { Concept } from '../cidm/concepts/concept';
import type { TrainerCheckpoint } from '../cidm/train/trainer';

/** Where the engine finds a model: the OPFS store (by id) — the only kind a worker can be sent. */
export interface StoredModelRef {
  type: 'stored';
  id: string;
}

/**
 * 'f16-math': f16 storage and f16 arithmetic in the matmuls (GpuContext.f16Math; within the f16 goldens'
 * bounds, faster on GPUs with double-rate f16). Needs shader-f16, as 'f16' does.
 */
export type Precision = 'auto' | 'f16' | 'f16-math' | 'f32';

/**
 * The loop's parameters (diffusion/text-to-image.ts) as the page sends them, plus the engine's own options.
 * They include the sampling options (diffusion/sampling-options.ts): guidanceRescale, zeroTerminalSnr, dpmFinalSigma.
 */
export interface GenerateParams extends Omit<TextToImageParams, 'negativePrompt' | 'initLatents' | 'lowMemory' | 'init'> {
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
  /**
   * EWA's weight form (spec §3.3) when a prompt names concepts of the engine's library (setConcepts):
   * 'code' (default) or the paper's ψ.
   */
  ewaForm?: 'code' | 'paper';
  /**
   * Style strength (issue 14 point 4): a factor on the EWA weight of a library concept the prompt names,
   * by concept name (cidm/ewa/task-scales.ts; 1 = as EWA weighs it, 0 = the concept's LoRA left out).
   * Applies to the prompt's EWA fold, not to region prompts.
   */
  conceptStrength?: Record<string, number>;
  /**
   * Image to image (issue 14): the image to start from, any size: cropped and resized to the run's
   * width × height (less the outpainted border). Painted regions apply to it as to a text-to-image run.
   */
  initImage?: RgbaImage;
  /** 0 (the init image's VAE round trip) … 1 (the init image ignored but outside the mask); default 0.75. */
  strength?: number;
  /** Inpainting: 0..1 per pixel of the init image (1 = repaint); another size is resampled (said). */
  mask?: GenerateMask;
  /** Gaussian σ in pixels applied to the mask (A1111's "Mask blur"); default 4 with a mask. */
  maskBlur?: number;
  /** Paste the init image back outside the (blurred) mask after decoding: untouched pixels stay bit for bit. */
  keepOutside?: boolean;
  /** Outpainting: pixels added on the left, top, right, bottom; the canvas is width × height, the new area the mask. */
  outpaint?: [number, number, number, number];
  /**
   * Plain LoRAs (issue 13 point 1) that the prompts' `<lora:name:w>` tags name, resolved by the page to
   * stored files (the worker reads them from OPFS by id); the engine cuts the tags out of the prompts
   * and takes each LoRA's weights from its tags (engine/lora-run.ts).
   */
  loras?: GenerateLora[];
}

/** A stored plain LoRA as a run uses it. */
export interface GenerateLora {
  /** The name `<lora:name:…>` tags use. */
  name: string;
  /** Its id in the LoRA store (storage/loras). */
  id: string;
  /** A1111's short hash of the file (12 hex), for the PNG's `Lora hashes`. */
  hash: string;
  /** Multipliers of its text-encoder and UNet layers (A1111's te / unet). */
  te: number;
  unet: number;
}

/** An inpainting mask: 0..1 per pixel, 1 = repaint. */
export interface GenerateMask {
  width: number;
  height: number;
  data: Float32Array<ArrayBuffer>;
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

import type { TuningSummary } from './autotune';

export type EngineProgress =
  | { status: 'device' }
  | { status: 'load'; component: string; done: number; total: number }
  | { status: 'compile'; compiled: number }
  // truncated: the prompts this run cuts to 77 tokens (prompt-notices.ts), when any
  | { status: 'encode'; truncated?: PromptTruncationNotice[] }
  | { status: 'step'; step: number; steps: number; preview: RgbaImage | null; elapsedMs: number }
  | { status: 'decode' }
  | { status: 'done' }
  // concept training (train requests): one 'train' per step, a 'checkpoint' every checkpointEvery steps and at the end
  | { status: 'train'; step: number; steps: number; loss: number; lr: number; itPerSec: number; etaMs: number; tokensFrozen: boolean }
  | { status: 'checkpoint'; step: number; checkpoint: TrainCheckpoint }
  // a sample of the concept as learned so far, every previewEvery steps of a train request
  | { status: 'train-preview'; step: number; image: RgbaImage }
  // forgetting requests: one per (task, concept) cell computed
  | { status: 'forgetting'; done: number; total: number };

export interface LoadedModelInfo {
  id: string;
  /** The compute (activation) dtype. */
  dtype: 'f16' | 'f32';
  /** f32 compute over f16 weights packed in u32 words (Automatic precision without shader-f16). */
  packedWeights?: boolean;
  /** f16 arithmetic in the matmuls (precision 'f16-math'). */
  f16Math?: boolean;
  /** Bytes of weights on the GPU. */
  gpuBytes: number;
  loadMs: number;
}

export interface GenerateResult {
  image: RgbaImage;
  params: GenerateParams;
  modelId: string;
  dtype: 'f16' | 'f32';
  /** The weights were packed f16 under f32 compute (LoadedModelInfo.packedWeights). */
  packedWeights?: boolean;
  /** The matmuls ran f16 arithmetic (LoadedModelInfo.f16Math). */
  f16Math?: boolean;
  timings: { encodeMs: number; stepsMs: number; decodeMs: number; totalMs: number };
  /** The library concepts the prompt (and the region prompts of a regional run) named, in task order (EWA, spec §3). */
  concepts?: { id: string; name: string }[];
  /** The prompt mode the run used ('truncate' when regions or concepts ruled out the 'chunked' asked for). */
  promptMode?: 'truncate' | 'chunked';
  /** Every prompt of the run that was cut to 77 tokens (absent or empty: nothing was cut). */
  truncated?: PromptTruncationNotice[];
  /** What the engine changed in an edit's input (a resampled mask, an empty mask run as image to image). */
  editNotices?: string[];
  /** The plain LoRAs the run applied, with their weights (absent: none). */
  loras?: GenerateLora[];
  /** Region prompts that named LoRAs, which were applied to the whole image (engine/lora-run.ts says why). */
  loraNotices?: string[];
}

/** A prompt cut to fit one 77-token sequence (issue 12 point 4: never silently). */
export interface PromptTruncationNotice {
  /** 'prompt', 'negative prompt', 'region 2 prompt', … */
  field: string;
  /** Its content tokens and how many were kept (75). */
  tokens: number;
  kept: number;
  /** The dropped tokens as the tokenizer reads them (lower case). */
  droppedText: string;
}

export interface EngineStatus {
  adapter: AdapterSummary | null;
  f16: boolean;
  model: LoadedModelInfo | null;
  /** This GPU's kernel tuning (engine/autotune.ts); null: not measured yet. */
  tuning: TuningSummary | null;
}

export type EngineRequest =
  | { kind: 'status'; id: number }
  | { kind: 'load'; id: number; model: StoredModelRef; precision: Precision }
  | { kind: 'generate'; id: number; params: GenerateParams }
  | { kind: 'unload'; id: number }
  | { kind: 'train'; id: number; spec: TrainJobSpec }
  /** Replaces the engine's concept library (task order; [] clears it): prompts name these concepts by their tokens (EWA). */
  | { kind: 'concepts'; id: number; concepts: Concept[] }
  /** The forgetting dashboard's scores over the engine's concept library. */
  | { kind: 'forgetting'; id: number; spec: ForgettingJobSpec }
  /** Aborts the request `target` (load, generate or train). */
  | { kind: 'retune'; id: number }
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
  train: TrainResult;
  concepts: { count: number };
  forgetting: ForgettingResult;
  retune: TuningSummary | null;
}

// ---- Concept training (a job of the engine; src/engine/train-job.ts) ----

/** One training photo at the training size (square, resolution × resolution). */
export interface TrainPhoto {
  rgba: RgbaImage;
  /** The subject's mask, 0..1, one value per pixel (same size): the loss counts only where it is set. */
  mask?: Float32Array<ArrayBuffer>;
}

/** An earlier concept's LoRA ups [out, rank] by attn2 module name (Concept.lora keys), for the consolidation loss. */
export type TrainOldTask = Map<string, Float32Array>;

export interface TrainJobSpec {
  /** The job's id; the finished concept takes it as its id, and a checkpoint only resumes its own job. */
  jobId: string;
  name: string;
  /** e.g. "dog" or "teddy bear": the class words of the concept phrase; placeholder j ≥ 1 starts at class word j − 1. */
  classWord: string;
  /** e.g. ["<dog1>", "<dog2>"]: new words (PlaceholderCollisionError for a known one). */
  placeholders: string[];
  /** 1-based task number g (σ of the first token's init, spec §1.4). */
  taskIndex: number;
  photos: TrainPhoto[];
  /** 'object' (default), 'style', or a caption with '{}' for "<p1> <p2> class". */
  captionTemplate?: 'object' | 'style' | (string & {});
  /** Default defaultTrainSteps(photos) (or the resumed checkpoint's). */
  steps?: number;
  /** LoRA rank (default 4). */
  rank?: number;
  /** AdamW learning rates (defaults 1e-4 and 1e-3, spec §1.6). */
  lrLora?: number;
  lrTokens?: number;
  seed: number;
  /** Masked ε-MSE for the photos that have a mask. */
  masked: boolean;
  /** Side of the square photos in pixels (512 or 1024 for SDXL). */
  resolution: number;
  /** Emit a checkpoint every this many steps (default 50), and always at the end. */
  checkpointEvery?: number;
  /** The ups of every earlier concept (task g > 1). */
  oldTasks?: TrainOldTask[];
  /** Continue this job from a checkpoint (pause = cancel, resume = train again with it). */
  resume?: TrainCheckpoint;
  /** A 'train-preview' every this many steps and at the last step (0 or absent: none), sampled with the concept as learned so far. */
  previewEvery?: number;
  /** The preview's prompt (default "a photo of <p1> … <pP> {class}"), sampling steps (default 12) and seed (default `seed`). */
  previewPrompt?: string;
  previewSteps?: number;
  previewSeed?: number;
}

// ---- The forgetting dashboard (spec §5: the denoising-loss proxy of each concept after every later task) ----

export interface ForgettingProbe {
  /** A concept of the engine's library (setConcepts). */
  conceptId: string;
  /** Its own training photos at its training resolution (masks: the masked loss, as it was trained). */
  photos: TrainPhoto[];
  captionTemplate?: TrainJobSpec['captionTemplate'];
}

export interface ForgettingJobSpec {
  probes: ForgettingProbe[];
  /** Draws of (timestep, noise) per photo are fixed by this seed, the same for every cell. */
  seed: number;
  /** (timestep, noise) draws per photo (default 8). */
  draws?: number;
}

export interface ForgettingResult {
  /** The library in task order (rows and columns of the matrix). */
  conceptIds: string[];
  /**
   * matrix[j][i]: concept i's mean ε-MSE on its photos through EWA over the library as it stood after
   * task j (tasks 0..j); null where concept i was not yet learned (i > j) or has no probe.
   */
  matrix: (number | null)[][];
}

/** One optimizer group's flat f32 buffers (cidm/train/flat-params.ts), padding included. */
export interface TrainFlatState {
  param: Float32Array;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

/** Everything a resumed run needs to continue exactly as the uninterrupted one. */
export interface TrainCheckpoint {
  jobId: string;
  /** Completed steps. */
  step: number;
  /** The run's total steps (the learning-rate decay depends on it). */
  steps: number;
  trainer: TrainerCheckpoint;
  lora: TrainFlatState;
  tokens: TrainFlatState;
  /** Loss of every completed step, so a resumed job still reports its whole curve. */
  losses: number[];
}

export interface TrainResult {
  concept: Concept;
  /** Loss of each step 1..steps (resumed runs include the steps before the checkpoint). */
  losses: number[];
  /** Steps run by this request (fewer than steps when resumed). */
  stepsRun: number;
  timings: { prepareMs: number; trainMs: number };
}
