/**
 * The page's one engine: a Web Worker that owns the GPU device for generation (src/engine). Started on
 * first use, so the shell loads without it. Device loss is reported to listeners; the worker makes a
 * new device on the next request and the model is loaded again then.
 */
import type { SerializedError } from '../gpu';
import type { StudioEngine } from '../engine/engine';
import { WorkerEngine } from '../engine/worker-client';

let engine: StudioEngine | null = null;
const lostListeners = new Set<(e: SerializedError) => void>();

export function studioEngine(): StudioEngine {
  if (!engine) {
    engine = WorkerEngine.start();
    engine.onDeviceLost((e) => {
      for (const l of lostListeners) l(e);
    });
  }
  return engine;
}

export function onEngineDeviceLost(listener: (e: SerializedError) => void): () => void {
  lostListeners.add(listener);
  return () => lostListeners.delete(listener);
}
