/**
 * The engine: owns the GPU device and the loaded model, runs one request at a time. This class is the
 * in-thread implementation of StudioEngine; worker.ts runs it inside a Web Worker and worker-client.ts
 * is the page's implementation that talks to it, so both sides share one behaviour.
 *
 * Device loss: the loaded model dies with its device. The engine then forgets both, reports the loss,
 * and makes a new device on the next request (the page reloads the model), so a lost device costs a
 * reload of weights, never the studio.
 */
import { GpuContext, serializeError, type DeviceOptions, type SerializedError } from '../gpu';
import type { ModelFiles } from '../model/model-files';
import { textToImage, type GuidedPredictorFactory } from '../diffusion/text-to-image';
import { imageToRgba } from '../diffusion/latent-preview';
import { NoModelLoadedError } from './errors';
import { checkImageSize } from './size-check';
import { regionalPredictor } from '../cidm/regional/regional-step';
import { latentSize, usesGuidance } from '../diffusion/sdxl-conditioning';
import { loadSdxlModel, type LoadedSdxlModel } from './sdxl-model';
import type { EngineProgress, EngineStatus, GenerateParams, GenerateResult, LoadedModelInfo, Precision, RgbaImage, StoredModelRef } from './protocol';
import type { ForgettingJobSpec, ForgettingResult, TrainJobSpec, TrainResult } from './protocol';
import type { Concept } from '../cidm/concepts/concept';
import { runTrainJob } from './train-job';
import { runForgettingJob } from './forgetting-job';
import { EwaLibraryCache, ewaPredictor } from './engine-ewa';
import { namedConcepts } from './concept-prompt';
import { effectivePromptMode, truncationNotices } from './prompt-notices';
import { LoraViewCache, type OpenLoraFile } from './engine-lora';
import { loraRun } from './lora-run';
import type { SdxlTrainingParts } from './sdxl-model';
import { editInput } from './edit-input';
import { taskScalesFor } from '../cidm/ewa/task-scales';
import { pasteOutside } from '../diffusion/img2img';
import { EngineTuning } from './engine-tuning';
import { isCpuAdapter } from '../ops/matmul';
import type { TuningStore, TuningSummary } from './autotune';

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?(p: EngineProgress): void;
}

/** The one interface of the engine, in-thread or in a worker. */
export interface StudioEngine {
  status(): Promise<EngineStatus>;
  load(model: StoredModelRef, precision: Precision, o?: CallOptions): Promise<LoadedModelInfo>;
  generate(params: GenerateParams, o?: CallOptions): Promise<GenerateResult>;
  unload(): Promise<null>;
  /** Trains a concept on the loaded model (progress: 'train' per step, 'checkpoint'); cancel = pause with a checkpoint. */
  train(spec: TrainJobSpec, o?: CallOptions): Promise<TrainResult>;
  /**
   * Replaces the concept library that prompts can name (task order; [] clears it). Kept across model
   * loads; a concept of another model than the loaded one is refused when a prompt uses the library.
   */
  setConcepts(concepts: Concept[]): Promise<{ count: number }>;
  /** The forgetting dashboard's matrix over the library (progress: 'forgetting'). */
  forgetting(spec: ForgettingJobSpec, o?: CallOptions): Promise<ForgettingResult>;
  /** Forgets this GPU's kernel tuning and measures it again on the loaded model (engine-tuning.ts). */
  retune(o?: CallOptions): Promise<TuningSummary | null>;
  /** Called when the GPU device is lost (the model is dropped; the next request makes a new device). */
  onDeviceLost(listener: (e: SerializedError) => void): () => void;
  dispose(): void;
}

export interface EngineDeps {
  gpu: GPU | undefined;
  openModel(ref: StoredModelRef): Promise<ModelFiles>;
  deviceOptions?: DeviceOptions;
  /** Makes the engine's GPU context; default GpuContext.create(gpu, deviceOptions). Tests inject device loss here. */
  createContext?(): Promise<GpuContext>;
  /** Opens a stored plain LoRA by id (GenerateParams.loras); absent: a run that names a LoRA is refused. */
  openLora?: OpenLoraFile;
  /** Where kernel tuning tables are kept (the worker: IndexedDB); absent: measured once per engine. */
  tuningStore?: TuningStore;
  /**
   * Autotune at model load: 'gpu' (default) on hardware adapters only: on a software adapter (SwiftShader,
   * lavapipe) the candidates' shader compiles alone take longer than any gain, so it measures only when
   * asked (retune, the GPU page); true: on every adapter; false: never at load.
   */
  autotune?: boolean | 'gpu';
}

function toRgba(p: { width: number; height: number; rgba: Uint8ClampedArray }): RgbaImage {
  return { width: p.width, height: p.height, rgba: new Uint8ClampedArray(p.rgba) };
}

export class InThreadEngine implements StudioEngine {
  private ctx: GpuContext | null = null;
  private model: { ref: StoredModelRef; precision: Precision; loaded: LoadedSdxlModel; info: LoadedModelInfo } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** The concept library (setConcepts), in task order. */
  private concepts: Concept[] = [];
  /** The EwaLibrary of the loaded model's concepts, built when a prompt first names one (engine-ewa.ts). */
  private readonly ewa = new EwaLibraryCache();
  private readonly tuning: EngineTuning;
  /** The loaded model with the last run's plain LoRAs (engine-lora.ts), kept while the set is unchanged. */
  private readonly loras = new LoraViewCache();
  private readonly lostListeners = new Set<(e: SerializedError) => void>();

  constructor(private readonly deps: EngineDeps) {
    this.tuning = new EngineTuning(deps.tuningStore);
  }

  /** Requests run strictly one after another (the GPU and the model are shared state). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    // f16 arithmetic is a generation choice only (precision 'f16-math'): every job starts without it,
    // and generate() turns it on for a model loaded that way (training keeps f32-accumulated matmuls)
    const job = () => {
      if (this.ctx) this.ctx.f16Math = false;
      return fn();
    };
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async context(o: CallOptions): Promise<GpuContext> {
    if (this.ctx) return this.ctx;
    o.onProgress?.({ status: 'device' });
    const ctx = await (this.deps.createContext?.() ?? GpuContext.create(this.deps.gpu, this.deps.deviceOptions));
    this.ctx = ctx;
    void ctx.handle.lost.then((err) => {
      if (!err || this.ctx !== ctx) return; // destroyed on purpose, or an older device
      this.ctx = null;
      this.model = null; // its buffers belonged to the lost device
      this.ewa.forget(); // and so did the library's
      this.tuning.forget(); // the next device's table is applied again from the store
      this.loras.forget();
      const e = serializeError(err);
      for (const l of this.lostListeners) l(e);
    });
    return ctx;
  }

  status(): Promise<EngineStatus> {
    return this.serial(async () => ({
      adapter: this.ctx?.handle.summary ?? null,
      f16: this.ctx?.hasF16 ?? false,
      tuning: this.tuning.summary(),
      model: this.model?.info ?? null,
    }));
  }

  retune(o: CallOptions = {}): Promise<TuningSummary | null> {
    return this.serial(async () => {
      const ctx = await this.context(o);
      return this.tuning.retune(ctx, this.model ? { loaded: this.model.loaded, packWeights: this.model.info.packedWeights === true } : null, o);
    });
  }

  load(ref: StoredModelRef, precision: Precision, o: CallOptions = {}): Promise<LoadedModelInfo> {
    return this.serial(async () => {
      o.signal?.throwIfAborted();
      const ctx = await this.context(o);
      if (this.model && this.model.ref.id === ref.id && this.model.precision === precision) return this.model.info;
      this.dropModel();
      const dtype = precision === 'auto' ? (ctx.hasF16 ? 'f16' : 'f32') : precision === 'f16-math' ? 'f16' : precision;
      // Automatic without shader-f16: f32 compute over f16 weights packed in u32 words (half the memory
      // of f32 weights; DESIGN.md "GPUs as Chrome offers them"). An explicit f32 keeps f32 weights.
      const packWeights = precision === 'auto' && !ctx.hasF16;
      const t0 = performance.now();
      const files = await this.deps.openModel(ref);
      const loaded = await loadSdxlModel(ctx, files, {
        dtype,
        packWeights,
        signal: o.signal,
        onProgress: (component, done, total) => o.onProgress?.({ status: 'load', component, done, total }),
      });
      const f16Math = precision === 'f16-math';
      const info: LoadedModelInfo = { id: ref.id, dtype, ...(packWeights ? { packedWeights: true } : {}), ...(f16Math ? { f16Math: true } : {}), gpuBytes: loaded.gpuBytes, loadMs: performance.now() - t0 };
      this.model = { ref, precision, loaded, info };
      // kernel tiles measured on this GPU for this model's shapes (once per adapter; engine-tuning.ts)
      const tuneAtLoad = this.deps.autotune ?? 'gpu';
      if (tuneAtLoad === true || (tuneAtLoad === 'gpu' && !isCpuAdapter(ctx))) await this.tuning.ensure(ctx, loaded, packWeights, o);
      else await this.tuning.applyStored(ctx);
      return info;
    });
  }

  generate(asked: GenerateParams, o: CallOptions = {}): Promise<GenerateResult> {
    return this.serial(async () => {
      o.signal?.throwIfAborted();
      const model = this.model;
      if (!model || !this.ctx) throw new NoModelLoadedError();
      // <lora:name:w> tags: cut out of every prompt; the LoRAs they name go into the weights (lora-run.ts)
      const lora = loraRun(asked);
      const params = lora.params;
      // refuse a size the device cannot hold before any work (named errors, with what to do)
      latentSize(params.height, params.width, model.loaded.parts.latentFactor);
      // an edit's input is checked and fitted before any GPU work too (edit-input.ts)
      const edit = editInput(params);
      await checkImageSize(model.loaded.unetConfig, {
        width: params.width,
        height: params.height,
        batch: usesGuidance(params.guidanceScale) && params.memoryMode !== 'low' ? 2 : 1,
        dtype: model.info.dtype,
        ...(model.info.packedWeights ? { packedWeights: true } : {}),
        maxBindingBytes: this.ctx.device.limits.maxStorageBufferBindingSize,
        latentFactor: model.loaded.parts.latentFactor,
      });
      this.ctx.f16Math = model.info.f16Math === true;
      const t0 = performance.now();
      let tEncoded = t0;
      let tSteps = t0;
      const compiledBefore = this.ctx.pipelines.size;
      const low = params.memoryMode === 'low';
      const view = lora.loras.length ? await this.loraView(params, lora.loras, low) : null;
      const predictor = await this.conditioning(params, low, view?.training ?? model.loaded.training);
      // long prompts: chunked only on the plain loop; whatever is cut is said (issue 12 point 4)
      const promptMode = effectivePromptMode(params.promptMode, !predictor.factory);
      const truncated = truncationNotices(model.loaded.training.tokenizers[0]!, { ...params, regions: predictor.factory ? params.regions : [] }, promptMode);
      const result = await textToImage(
        view?.parts ?? model.loaded.parts,
        { ...params, lowMemory: low, promptMode, ...(edit ? { init: edit.init } : {}) },
        {
          signal: o.signal,
          previewEvery: params.previewEvery ?? 1,
          // regional synthesis or EWA plug into the loop (neither: the plain loop, bit for bit)
          predictor: predictor.factory,
          onProgress: (p) => {
            const now = performance.now();
            if (p.status === 'encode') o.onProgress?.(truncated.length ? { ...p, truncated } : p);
            else if (p.status === 'step') {
              if (p.step === 0) tEncoded = now; // step 0 is announced once the prompts are encoded
              if (p.step === 1) {
                // kernels compile on first use; the first step of a session pays for it
                const compiled = this.ctx!.pipelines.size - compiledBefore;
                if (compiled > 0) o.onProgress?.({ status: 'compile', compiled });
              }
              o.onProgress?.({ status: 'step', step: p.step, steps: p.steps, preview: p.preview ? toRgba(p.preview) : null, elapsedMs: now - t0 });
            } else {
              tSteps = now;
              o.onProgress?.(p);
            }
          },
        },
      );
      if (low) this.ctx.pool.trim(); // give idle activation buffers back to the GPU between images
      const t1 = performance.now();
      const decoded = imageToRgba(result.image, result.height, result.width);
      // keep the outside: the init image's own bytes wherever the blurred mask is 0 (img2img.ts, 6.)
      const image = edit?.pasteMask ? { ...decoded, rgba: pasteOutside(decoded.rgba, edit.canvas, edit.pasteMask) } : decoded;
      o.onProgress?.({ status: 'done' });
      return {
        image: { width: image.width, height: image.height, rgba: new Uint8ClampedArray(image.rgba) },
        // as asked: the prompts keep their <lora:…> tags (the PNG's parameters carry them, as A1111's do)
        params: asked,
        modelId: model.ref.id,
        dtype: model.info.dtype,
        ...(model.info.packedWeights ? { packedWeights: true } : {}),
        ...(model.info.f16Math ? { f16Math: true } : {}),
        timings: { encodeMs: tEncoded - t0, stepsMs: tSteps - tEncoded, decodeMs: t1 - tSteps, totalMs: t1 - t0 },
        concepts: predictor.concepts.map((c) => ({ id: c.id, name: c.name })),
        promptMode,
        ...(truncated.length ? { truncated } : {}),
        ...(edit?.notices.length ? { editNotices: edit.notices } : {}),
        ...(lora.loras.length ? { loras: lora.loras } : {}),
        ...(lora.regionNotices.length && lora.loras.length ? { loraNotices: lora.regionNotices } : {}),
      };
    });
  }

  /** The loaded model carrying the run's LoRAs; fused only in low-memory mode on a run that names no concept (engine-lora.ts). */
  private async loraView(params: GenerateParams, loras: NonNullable<GenerateParams['loras']>, low: boolean) {
    const open = this.deps.openLora;
    if (!open) throw new Error('This engine cannot read stored LoRA files (no openLora was given to it).');
    const named = namedConcepts([params.prompt, ...(params.regions ?? []).map((r) => r.prompt)], this.concepts, this.model!.ref.id).length > 0;
    return this.loras.get(this.ctx!, this.model!.loaded, loras, open, { fuse: low && !named });
  }

  /**
   * What conditions a run beyond the plain prompt (spec §3–§4): painted regions → the regional predictor,
   * which owns the whole conditioning and gets the library when any prompt names a concept; else a
   * prompt that names concepts → EWA (engine-ewa.ts); else nothing, the plain loop. A word of a concept
   * learned on another model is refused by name (ConceptModelMismatchError) before any GPU work.
   */
  private async conditioning(params: GenerateParams, low: boolean, training: SdxlTrainingParts): Promise<{ factory: GuidedPredictorFactory | undefined; concepts: Concept[] }> {
    const model = this.model!;
    const regions = params.regions ?? [];
    const modelId = model.ref.id;
    const inPrompt = namedConcepts([params.prompt], this.concepts, modelId);
    const inRegions = namedConcepts(regions.map((r) => r.prompt), this.concepts, modelId);
    const library = inPrompt.length || inRegions.length ? await this.ewa.get(this.ctx!, training, this.concepts, modelId) : undefined;
    const form = params.ewaForm ?? 'code';
    if (regions.length) {
      // null: no region has coverage, the run is the non-regional one
      const regional = regionalPredictor(params, regions, library ? { library, form } : undefined);
      if (regional) return { factory: regional, concepts: this.concepts.filter((c) => inPrompt.includes(c) || inRegions.includes(c)) };
    }
    if (!inPrompt.length) return { factory: undefined, concepts: [] };
    const { h, w } = latentSize(params.height, params.width, model.loaded.parts.latentFactor);
    // a style strength per named concept scales its EWA weight (task-scales.ts); refused by name when out of range
    const taskScales = params.conceptStrength ? taskScalesFor(library!.table.concepts, params.conceptStrength) : undefined;
    return { factory: ewaPredictor(library!, { prompt: params.prompt, form, guidanceScale: params.guidanceScale, guidanceRescale: params.guidanceRescale, lowMemory: low, latent: [h, w], ...(taskScales ? { taskScales } : {}) }), concepts: inPrompt };
  }

  unload(): Promise<null> {
    return this.serial(async () => {
      this.dropModel();
      return null;
    });
  }

  train(spec: TrainJobSpec, o: CallOptions = {}): Promise<TrainResult> {
    return this.heavyJob(o, (ctx, model) => runTrainJob(ctx, model.loaded.training, spec, { modelId: model.ref.id, sampling: model.loaded.parts, signal: o.signal, onProgress: o.onProgress }));
  }

  /**
   * A training-sized job on the loaded model (train, forgetting): 'done' at the end, and the idle
   * activation buffers given back to the GPU afterwards (training's are far larger than sampling's).
   */
  private heavyJob<T>(o: CallOptions, run: (ctx: GpuContext, model: NonNullable<InThreadEngine['model']>) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      o.signal?.throwIfAborted();
      const model = this.model;
      const ctx = this.ctx;
      if (!model || !ctx) throw new NoModelLoadedError();
      this.loras.invalidate(); // its copies of the LoRA'd weights would sit beside the trainer's memory
      try {
        const result = await run(ctx, model);
        o.onProgress?.({ status: 'done' });
        return result;
      } finally {
        if (this.ctx === ctx) ctx.pool.trim();
      }
    });
  }

  setConcepts(concepts: Concept[]): Promise<{ count: number }> {
    return this.serial(async () => {
      this.concepts = [...concepts];
      this.ewa.invalidate(); // rebuilt from the new list when a prompt names a concept
      return { count: this.concepts.length };
    });
  }

  forgetting(spec: ForgettingJobSpec, o: CallOptions = {}): Promise<ForgettingResult> {
    return this.heavyJob(o, (ctx, model) => runForgettingJob(ctx, model.loaded.training, this.concepts, spec, { modelId: model.ref.id, signal: o.signal, onProgress: o.onProgress }));
  }

  onDeviceLost(listener: (e: SerializedError) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  private dropModel(): void {
    if (this.ctx) {
      this.ewa.invalidate();
      this.loras.invalidate();
    } else {
      this.ewa.forget();
      this.loras.forget();
    }
    if (this.model && this.ctx) this.model.loaded.destroy();
    this.model = null;
  }

  dispose(): void {
    this.dropModel();
    this.ctx?.destroy();
    this.ctx = null;
  }
}
