/// <reference types="vite-plugin-pwa/vanillajs" />
import type { AdapterSummary, SerializedError } from '../gpu';
import type { SceneBridge } from './scenes/scene-bridge';

/**
 * The test bridge: a plain-data snapshot of the shell's state, refreshed on every store change, for
 * the Playwright specs (and for a person poking at the console). Never read by the app itself.
 */
export interface StudioBridge {
  /** true once the GPU probe has finished, whether it succeeded or not. */
  ready: boolean;
  gpu: AdapterSummary | null;
  /** Features enabled on the device that was created. */
  enabled: { f16: boolean; subgroups: boolean; timestamps: boolean } | null;
  error: SerializedError | null;
  failureKind: string | null;
  offlineReady: boolean;
  /** A render error the error boundary caught. */
  crash: SerializedError | null;
  /** Stored models and unfinished imports (the Models page's list; empty until it was opened). */
  models: {
    id: string;
    name: string;
    kind: 'sdxl' | 'sd15' | null;
    layout: 'diffusers' | 'single-file' | null;
    state: 'verified' | 'incomplete';
    verified: boolean;
    /** The manifest's byte count for a verified model, the bytes on disk for an unfinished one. */
    bytes: number;
    bytesOnDisk: number;
  }[];
  modelsLoaded: boolean;
  activeModelId: string | null;
  /** Imports started in this tab. */
  imports: {
    job: number;
    id: string | null;
    state: 'running' | 'done' | 'failed' | 'cancelled';
    phase: string | null;
    currentFile: string | null;
    bytesDone: number;
    bytesTotal: number | null;
    error: { code: string; message: string; file: string | null } | null;
  }[];
  /** The Generate section's run. */
  generation: {
    phase: string;
    step: number;
    steps: number;
    batchIndex: number;
    batchTotal: number;
    progress: string | null;
    error: SerializedError | null;
    result: { width: number; height: number; seed: number; dtype: string; totalMs: number } | null;
    draft: { prompt: string; negativePrompt: string; width: number; height: number; steps: number; guidanceScale: number; scheduler: string; seed: number; seedLocked: boolean; precision: string; memoryMode: string; ewaForm: string; noiseSource: string };
    notice: string | null;
  };
  gallery: { loaded: boolean; count: number; ids: string[]; seeds: number[]; regions: string[][]; sceneIds: (string | null)[] };
  /** The Settings page's storage reading (zeros until the page has read it once: loaded). */
  storage: {
    loaded: boolean;
    /** navigator.storage.estimate(): bytes used by this site, its quota, quota − usage. */
    usage: number;
    quota: number;
    available: number;
    persisted: boolean;
    /** Bytes the model folders hold, and how many there are. */
    models: number;
    modelsCount: number;
    galleryBytes: number;
    galleryCount: number;
    scenesBytes: number;
    scenesCount: number;
    /** A reading or a clean-up is running. */
    busy: boolean;
    /** The answer to the last "Keep my data" in this tab. */
    persistRequest: 'granted' | 'denied' | 'unsupported' | null;
  };
  /** The Scenes editor (mask checksums, layers, history). */
  scenes: SceneBridge;
}

declare global {
  interface Window {
    __studio?: StudioBridge;
  }
}

declare global {
  /** package.json's version, defined by vite.config.ts. */
  const __APP_VERSION__: string;
}
