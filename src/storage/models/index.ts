/**
 * The OPFS model store (DESIGN.md "Weights"): import from a hub repo, a URL, a picked file or folder;
 * verification; the registry. Window- and worker-safe. The import worker is import-worker.ts, its
 * client import-client.ts (kept out of this index: it creates a Worker).
 */
export * from './types';
export { importModel, withModelLock, type ImportOptions } from './import';
export { planImport, splitFolderPaths, CHECKPOINT_FILE, type ImportRequest, type FolderFile, type ImportPlan } from './plan';
export { DEFAULT_HUB, parseModelRef, normalizeHub, selectDiffusersFiles, resolveUrl, repoApiUrl, type ModelRef, type Sibling } from './hub';
export { validateManifest, validatePending, modelIdFor, isModelId, MANIFEST_FILE, PENDING_FILE, PARTIAL_SUFFIX } from './manifest';
export { etaSeconds, percent, formatDuration, RateMeter } from './progress';
export { DEFAULT_RETRY, backoffDelay, type RetryPolicy } from './retry';
export {
  listModels,
  getModel,
  openModelFile,
  modelFiles,
  findProvider,
  deleteModel,
  modelStorageBytes,
  storageInfo,
  getActiveModelId,
  setActiveModelId,
  type StorageInfo,
} from './store';
export { verifyDiffusers, verifySingleFile, verifyFile, type Verified, type OpenFile } from './verify';
