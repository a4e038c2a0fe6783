/**
 * The forgetting dashboard's state: the last result (kept in memory and in IndexedDB per model,
 * storage/concepts/library-extra.ts), the run in progress and its cancel, the last error.
 */
import { create } from 'zustand';
import { serializeError, type SerializedError } from '../../../gpu';
import { isAbort } from '../../../engine/errors';
import type { Precision } from '../../../engine/protocol';
import { getForgettingEntry, putForgettingEntry, type ForgettingEntry } from '../../../storage/concepts/library-extra';
import { listConcepts } from '../../../storage/concepts/store';
import { studioEngine } from '../../engine-service';
import { syncEngineConcepts } from '../engine-sync';
import { decodeImageAt } from './probes';
import { runForgetting, type ForgettingPhase } from './run-forgetting';
import { reasonOf } from '../../plain-error';

export interface ForgettingState {
  /** The last result per model id (null: looked up, none). */
  entries: Record<string, ForgettingEntry | null>;
  running: { modelId: string; phase: ForgettingPhase } | null;
  error: SerializedError | null;
  /** A result that computed fine but could not be kept in IndexedDB. */
  saveError: string | null;
}

export const useForgetting = create<ForgettingState>(() => ({ entries: {}, running: null, error: null, saveError: null }));

let controller: AbortController | null = null;

/** Reads the model's last result from IndexedDB once. */
export async function loadForgettingEntry(modelId: string): Promise<void> {
  if (modelId in useForgetting.getState().entries) return;
  const e = await getForgettingEntry(modelId).catch(() => null);
  useForgetting.setState((s) => ({ entries: { ...s.entries, [modelId]: s.entries[modelId] ?? e } }));
}

export async function computeForgetting(modelId: string, precision: Precision): Promise<void> {
  if (controller) return;
  const ac = new AbortController();
  controller = ac;
  useForgetting.setState({ running: { modelId, phase: { phase: 'load', progress: null } }, error: null, saveError: null });
  const engine = studioEngine();
  try {
    const entry = await runForgetting(
      {
        engine,
        list: async (id) => (await listConcepts(id)).concepts,
        sync: (id) => syncEngineConcepts(engine, id),
        decode: decodeImageAt,
      },
      modelId,
      precision,
      { signal: ac.signal, onPhase: (phase) => useForgetting.setState({ running: { modelId, phase } }) },
    );
    useForgetting.setState((s) => ({ entries: { ...s.entries, [modelId]: entry } }));
    await putForgettingEntry(entry).catch((err: unknown) => useForgetting.setState({ saveError: `The result is shown but not kept for the next visit: ${reasonOf(err)}` }));
  } catch (err) {
    if (!isAbort(err)) useForgetting.setState({ error: serializeError(err) });
  } finally {
    controller = null;
    useForgetting.setState({ running: null });
  }
}

export function cancelForgetting(): void {
  controller?.abort();
}
