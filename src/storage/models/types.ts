/**
 * The data of the OPFS model store. Layout (DESIGN.md "Weights"):
 *   models/<id>/import.json       the plan of an import (written first; its presence = not finished)
 *   models/<id>/<path>.partial    a file still being written
 *   models/<id>/<path>            a file that was complete and passed its own checks
 *   models/<id>/manifest.json     written last, atomically, after the whole model verified
 * A model is usable only with a valid manifest.json whose `verified` is true.
 */

export type ModelKind = 'sdxl' | 'sd15';
export type ModelLayout = 'diffusers' | 'single-file';

/** Where the weights came from (what Resume needs to continue, and what the Models page shows). */
export type ModelSource =
  /** A Hugging Face (or compatible) repo: `url` is `{hub}/{repo}`. */
  | { type: 'url'; url: string; repo: string; hub: string; revision: string }
  /** A direct URL to one .safetensors checkpoint. */
  | { type: 'url'; url: string; repo?: undefined }
  /** A file the person picked (it must be picked again to resume). */
  | { type: 'file'; name: string; bytes: number; lastModified: number }
  /** A diffusers folder the person picked or dropped. */
  | { type: 'folder'; name: string };

export interface ManifestFile {
  /** Relative to the model folder, '/'-separated: `unet/diffusion_pytorch_model.fp16.safetensors`. */
  readonly path: string;
  readonly bytes: number;
}

/** Something the model needs that its files do not carry, and where the studio takes it from. */
export interface ModelNeed {
  /** 'tokenizer' | 'tokenizer_2' | 'scheduler' | 'vae' | 'text_encoder' | 'text_encoder_2' | 'unet-config' | 'vae-config'. */
  readonly component: string;
  /** Files (diffusers layout paths) that would supply it. */
  readonly files: readonly string[];
  /** Where the studio takes it from, in words. */
  readonly from: string;
}

export interface ModelManifest {
  readonly version: 1;
  readonly id: string;
  readonly name: string;
  readonly kind: ModelKind;
  readonly layout: ModelLayout;
  readonly source: ModelSource;
  readonly files: readonly ManifestFile[];
  /** Sum of files[].bytes. */
  readonly bytes: number;
  /** Components present: unet, vae, text_encoder, text_encoder_2, tokenizer, tokenizer_2, scheduler. */
  readonly components: readonly string[];
  readonly needs: readonly ModelNeed[];
  /** ISO 8601. */
  readonly createdAt: string;
  /** Always true in a stored manifest: it is written only after verification. */
  readonly verified: true;
}

export interface PlannedFile {
  readonly path: string;
  /** Expected size; null when the source does not say (then the response's length is used). */
  readonly bytes: number | null;
  /** Download URL (URL imports); absent for files copied from the person's disk. */
  readonly url?: string;
}

/** models/<id>/import.json: enough to show an incomplete import and to resume a URL import. */
export interface PendingImport {
  readonly version: 1;
  readonly id: string;
  readonly name: string;
  readonly layout: ModelLayout;
  readonly source: ModelSource;
  readonly files: readonly PlannedFile[];
  readonly createdAt: string;
}

export type ImportPhase = 'planning' | 'checking-space' | 'transferring' | 'verifying' | 'done';

export interface FileProgress {
  readonly path: string;
  readonly bytesDone: number;
  readonly bytesTotal: number | null;
}

export interface ImportProgress {
  /** The model id (known once the source is resolved; '' while planning). */
  readonly id: string;
  readonly name: string;
  readonly phase: ImportPhase;
  readonly files: readonly FileProgress[];
  readonly currentFile: string | null;
  readonly bytesDone: number;
  /** Null while any file's size is unknown. */
  readonly bytesTotal: number | null;
  /** Bytes per second over the last few seconds. */
  readonly rate: number;
  /** Seconds left at that rate; null when unknown. */
  readonly etaSeconds: number | null;
  /** A retry after a dropped connection: which attempt, and when it starts. */
  readonly retry: { readonly file: string; readonly attempt: number; readonly delayMs: number } | null;
}

/** One row of listModels(): a verified model or an unfinished import. */
export interface ModelEntry {
  readonly id: string;
  readonly name: string;
  readonly state: 'verified' | 'incomplete';
  readonly kind: ModelKind | null;
  readonly layout: ModelLayout | null;
  readonly source: ModelSource | null;
  /** Bytes the model's folder holds now (partial files included). */
  readonly bytesOnDisk: number;
  /** The manifest's byte count, or the planned total of an import (null when unknown). */
  readonly bytesTotal: number | null;
  readonly manifest: ModelManifest | null;
  readonly pending: PendingImport | null;
  /** Why an unfinished folder cannot be resumed as it is (no import.json, damaged manifest…). */
  readonly problem: string | null;
}
