/**
 * The engine's Web Worker entry: one InThreadEngine, driven by EngineRequest messages, answered with
 * EngineEvent messages. Images are transferred (not copied). A cancel aborts the target request's
 * AbortSignal; the running step finishes and the request rejects with an AbortError.
 */
/// <reference lib="webworker" />
import { serializeError } from '../gpu';
import { OpfsModelFiles } from '../model/model-files';
import { InThreadEngine } from './engine';
import type { EngineEvent, EngineRequest } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const engine = new InThreadEngine({
  gpu: navigator.gpu,
  openModel: async (ref) => new OpfsModelFiles(ref.id),
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
    onProgress: (progress: Parameters<NonNullable<Parameters<typeof engine.generate>[1]>['onProgress'] & {}>[0]) => {
      const t = progress.status === 'step' && progress.preview ? [progress.preview.rgba.buffer as ArrayBuffer] : [];
      post({ kind: 'progress', id: req.id, progress }, t);
    },
  };
  try {
    let value: unknown;
    switch (req.kind) {
      case 'status':
        value = await engine.status();
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
    }
    post({ kind: 'result', id: req.id, value }, transferables(value));
  } catch (err) {
    post({ kind: 'error', id: req.id, error: serializeError(err) });
  } finally {
    running.delete(req.id);
  }
};
