/**
 * The engine's Web Worker entry: one InThreadEngine, driven by EngineRequest messages, answered with
 * EngineEvent messages. Images are transferred (not copied). A cancel aborts the target request's
 * AbortSignal; the running step finishes and the request rejects with an AbortError.
 */
/// <reference lib="webworker" />
import { serializeError } from '../gpu';
import { ModelFileError } from '../model/errors';
import { OpfsModelFiles, readJson, type ModelFiles } from '../model/model-files';
import { modelFiles } from '../storage/models/store';
import { InThreadEngine } from './engine';
import { SafetensorsFile } from '../model/safetensors/reader';
import { openOpfsPath } from '../model/safetensors/source';
import { loraOpfsPath } from './lora-run';
import type { EngineEvent, EngineProgress, EngineRequest } from './protocol';
import type { TrainResult } from './protocol';
import { trainTransferables } from './train-job';
import { idbTuningStore } from '../storage/tuning/tuning-store';

declare const self: DedicatedWorkerGlobalScope;

/**
 * A stored model is usable only once its import wrote manifest.json (last, after verification; see
 * src/storage/models/types.ts), so a half-imported model is never loaded.
 */
async function openStoredModel(id: string): Promise<ModelFiles> {
  const files = new OpfsModelFiles(id);
  if (!(await files.exists('manifest.json'))) {
    throw new ModelFileError('missing-file', `${id}/manifest.json`, 'the import of this model has not finished; resume it on the Models page');
  }
  const m = await readJson<{ verified?: boolean; layout?: string }>(files, 'manifest.json');
  if (m.verified !== true) throw new ModelFileError('bad-config', `${id}/manifest.json`, 'the model was not verified');
  // a single-file checkpoint's tokenizer files may come from another stored model (its manifest's needs)
  if (m.layout === 'single-file') return modelFiles(id);
  return files;
}

const engine = new InThreadEngine({
  gpu: navigator.gpu,
  openModel: (ref) => openStoredModel(ref.id),
  // a stored plain LoRA (storage/loras: the file is written before its record, so a listed LoRA has one)
  openLora: async (id) => SafetensorsFile.open(await openOpfsPath(loraOpfsPath(id))),
  // kernel tiles measured on this GPU, kept across sessions (engine-tuning.ts)
  tuningStore: idbTuningStore,
});
const running = new Map<number, AbortController>();

function post(e: EngineEvent, transfer: Transferable[] = []): void {
  self.postMessage(e, transfer);
}

engine.onDeviceLost((error) => post({ kind: 'device-lost', error }));

function transferables(value: unknown): Transferable[] {
  const img = (value as { image?: { rgba?: Uint8ClampedArray } } | null)?.image;
  return img?.rgba ? [img.rgba.buffer as ArrayBuffer] : [];
}

self.onmessage = async (ev: MessageEvent<EngineRequest>) => {
  const req = ev.data;
  if (req.kind === 'cancel') {
    running.get(req.target)?.abort();
    return;
  }
  const ac = new AbortController();
  running.set(req.id, ac);
  const opts = {
    signal: ac.signal,
    onProgress: (progress: EngineProgress) => {
      const t = progress.status === 'step' && progress.preview ? [progress.preview.rgba.buffer as ArrayBuffer] : [];
      // a training checkpoint's tensors are handed over, not copied (tens of MB for SDXL)
      if (progress.status === 'checkpoint') t.push(...trainTransferables(progress.checkpoint));
      if (progress.status === 'train-preview') t.push(progress.image.rgba.buffer);
      post({ kind: 'progress', id: req.id, progress }, t);
    },
  };
  try {
    let value: unknown;
    switch (req.kind) {
      case 'status':
        value = await engine.status();
        break;
      case 'retune':
        value = await engine.retune(opts);
        break;
      case 'load':
        value = await engine.load(req.model, req.precision, opts);
        break;
      case 'generate':
        value = await engine.generate(req.params, opts);
        break;
      case 'unload':
        value = await engine.unload();
        break;
      case 'train':
        value = await engine.train(req.spec, opts);
        break;
      case 'concepts':
        value = await engine.setConcepts(req.concepts);
        break;
      case 'forgetting':
        value = await engine.forgetting(req.spec, opts);
        break;
    }
    post({ kind: 'result', id: req.id, value }, req.kind === 'train' ? trainTransferables(value as TrainResult) : transferables(value));
  } catch (err) {
    post({ kind: 'error', id: req.id, error: serializeError(err) });
  } finally {
    running.delete(req.id);
  }
};
