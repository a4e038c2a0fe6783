/**
 * The shell's zustand store, built from slices (one per concern) so later features add their own
 * slice beside these instead of growing one object. Only plain data lives in the snapshot that the
 * e2e bridge copies; the live GPUDevice handle stays here for the engine to take over.
 */
import { create, type StateCreator } from 'zustand';
import type { AdapterSummary, GpuDeviceHandle, SerializedError } from '../gpu';
import { createModelsSlice, type ModelsSlice } from './models/models-slice';

/** Why the studio cannot run, as the explanation page needs it (not only the error class). */
export type GpuFailureKind = 'no-webgpu' | 'insecure-context' | 'no-adapter' | 'limit-too-low' | 'feature-missing' | 'device-failed';

export type GpuStatus = 'probing' | 'ready' | 'failed' | 'lost';

export interface GpuSlice {
  gpuStatus: GpuStatus;
  summary: AdapterSummary | null;
  /** Features actually enabled on the device (a subset of the adapter's). */
  enabled: { f16: boolean; subgroups: boolean; timestamps: boolean } | null;
  gpuError: SerializedError | null;
  failureKind: GpuFailureKind | null;
  handle: GpuDeviceHandle | null;
  setProbing(): void;
  setGpuReady(handle: GpuDeviceHandle): void;
  setGpuFailed(kind: GpuFailureKind, error: SerializedError): void;
  setGpuLost(error: SerializedError): void;
}

export const SECTIONS = ['generate', 'concepts', 'scenes', 'gallery', 'models', 'settings', 'gpu'] as const;
export type Section = (typeof SECTIONS)[number];

export interface AppSlice {
  section: Section;
  online: boolean;
  /** The service worker has precached the shell and controls this page. */
  offlineReady: boolean;
  /** A render error caught by the error boundary. */
  crash: SerializedError | null;
  setSection(section: Section): void;
  setOnline(online: boolean): void;
  setOfflineReady(ready: boolean): void;
  setCrash(error: SerializedError | null): void;
}

export type StudioState = GpuSlice & AppSlice & ModelsSlice;

const createGpuSlice: StateCreator<StudioState, [], [], GpuSlice> = (set) => ({
  gpuStatus: 'probing',
  summary: null,
  enabled: null,
  gpuError: null,
  failureKind: null,
  handle: null,
  // A retry keeps the last failure, so the explanation page stays up (showing "Checking…") meanwhile.
  setProbing: () => set({ gpuStatus: 'probing' }),
  setGpuReady: (handle) =>
    set({
      gpuStatus: 'ready',
      handle,
      summary: handle.summary,
      enabled: { f16: handle.hasF16, subgroups: handle.hasSubgroups, timestamps: handle.hasTimestamps },
      gpuError: null,
      failureKind: null,
    }),
  setGpuFailed: (failureKind, gpuError) =>
    set({ gpuStatus: 'failed', failureKind, gpuError, handle: null, summary: null, enabled: null }),
  // The adapter summary stays: the header still names the GPU that was lost.
  setGpuLost: (gpuError) => set({ gpuStatus: 'lost', gpuError, handle: null, enabled: null }),
});

const createAppSlice: StateCreator<StudioState, [], [], AppSlice> = (set) => ({
  section: 'generate',
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  offlineReady: false,
  crash: null,
  setSection: (section) => set({ section }),
  setOnline: (online) => set({ online }),
  setOfflineReady: (offlineReady) => set({ offlineReady }),
  setCrash: (crash) => set({ crash }),
});

export const useStudio = create<StudioState>()((...a) => ({
  ...createGpuSlice(...a),
  ...createAppSlice(...a),
  ...createModelsSlice(...a),
}));
