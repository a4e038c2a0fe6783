/**
 * The Models section's slice of the shell store: stored models and unfinished imports (as listModels
 * reports them), the active model, imports running in this tab, and storage use. Plain data only: the
 * running jobs' cancel handles live in actions.ts.
 */
import type { StateCreator } from 'zustand';
import type { ImportProgress, ModelEntry } from '../../storage/models/types';
import type { StorageInfo } from '../../storage/models/store';
import type { StudioState } from '../store';

export type ImportRowState = 'running' | 'done' | 'failed' | 'cancelled';

/** A person-facing error: what happened (title) and the full message naming the file. */
export interface ImportError {
  code: string;
  title: string;
  message: string;
  file: string | null;
}

export interface ImportRow {
  /** The job number of this tab's import. */
  job: number;
  /** The model id once the source is resolved. */
  modelId: string | null;
  /** What the person asked for: the repo, the URL, the file or folder name. */
  label: string;
  state: ImportRowState;
  progress: ImportProgress | null;
  error: ImportError | null;
  /** Whether Resume can continue it from its import.json (URL imports) or needs the file picked again. */
  resumable: 'auto' | 'pick-again' | null;
}

export interface ModelsSlice {
  models: ModelEntry[];
  modelsLoaded: boolean;
  activeModelId: string | null;
  imports: ImportRow[];
  storage: StorageInfo | null;
  /** Hub base URL for repo ids (Advanced). */
  hubUrl: string;
  /** A message about the list itself (the store could not be read). */
  modelsError: string | null;
  setModels(models: ModelEntry[]): void;
  setActiveModelId(id: string | null): void;
  setStorage(info: StorageInfo | null): void;
  setHubUrl(url: string): void;
  setModelsError(message: string | null): void;
  upsertImport(job: number, patch: Partial<ImportRow>): void;
  dismissImport(job: number): void;
}

export const createModelsSlice: StateCreator<StudioState, [], [], ModelsSlice> = (set) => ({
  models: [],
  modelsLoaded: false,
  activeModelId: null,
  imports: [],
  storage: null,
  hubUrl: 'https://huggingface.co',
  modelsError: null,
  setModels: (models) => set({ models, modelsLoaded: true, modelsError: null }),
  setActiveModelId: (activeModelId) => set({ activeModelId }),
  setStorage: (storage) => set({ storage }),
  setHubUrl: (hubUrl) => set({ hubUrl }),
  setModelsError: (modelsError) => set({ modelsError }),
  upsertImport: (job, patch) =>
    set((s) => {
      const i = s.imports.findIndex((r) => r.job === job);
      if (i < 0) {
        const row: ImportRow = { job, modelId: null, label: '', state: 'running', progress: null, error: null, resumable: null, ...patch };
        return { imports: [...s.imports, row] };
      }
      const imports = s.imports.slice();
      imports[i] = { ...imports[i]!, ...patch };
      return { imports };
    }),
  dismissImport: (job) => set((s) => ({ imports: s.imports.filter((r) => r.job !== job) })),
});
