/**
 * What an import will write: the model id, its layout and the list of files with their sizes and
 * where each comes from (a URL, or a Blob the person picked). Planning reads nothing but the hub's
 * file list (and a HEAD for a direct URL), so the quota check can run before any byte is written.
 */
import { SINGLE_FILE_CHECKPOINT } from '../../model/model-files';
import { refusePickle } from '../../model/pickle';
import { BadModelSourceError } from '../errors';
import { DEFAULT_HUB, fetchRepoFiles, MODEL_INDEX, normalizeHub, selectDiffusersFiles, type HubOptions } from './hub';
import { modelIdFor, PENDING_FILE, validatePending } from './manifest';
import { modelDir, readText } from './opfs';
import type { ModelLayout, ModelSource, PlannedFile } from './types';

export const CHECKPOINT_FILE = SINGLE_FILE_CHECKPOINT;

/** Tokenizer files a single-file checkpoint does not carry; the person may supply them beside it. */
export const SINGLE_FILE_TOKENIZER_FILES: Readonly<Record<'tokenizer' | 'tokenizer_2', readonly string[]>> = {
  tokenizer: ['tokenizer/vocab.json', 'tokenizer/merges.txt'],
  tokenizer_2: ['tokenizer_2/vocab.json', 'tokenizer_2/merges.txt'],
};

export type ImportRequest =
  /** A Hugging Face repo id on `hub` (default https://huggingface.co). */
  | { type: 'repo'; repo: string; hub?: string; revision?: string; token?: string }
  /** A direct URL of a single-file .safetensors checkpoint. */
  | { type: 'url'; url: string; token?: string }
  | { type: 'file'; file: File }
  /** A diffusers folder: every file with its path inside the folder (the folder's own name removed). */
  | { type: 'folder'; name: string; files: readonly FolderFile[] }
  /** Continue an unfinished URL import from its import.json (file imports need the file picked again). */
  | { type: 'resume'; id: string; token?: string };

export interface FolderFile {
  readonly path: string;
  readonly file: Blob;
}

export interface ImportPlan {
  readonly id: string;
  readonly name: string;
  readonly layout: ModelLayout;
  readonly source: ModelSource;
  readonly files: readonly PlannedFile[];
  /** Where copied files come from, by path (file and folder imports). */
  readonly blobs: ReadonlyMap<string, Blob>;
  /** Request headers for downloads (an access token). */
  readonly headers: Record<string, string>;
  /** The name errors use for a path: a single file is stored as checkpoint.safetensors but named by its origin. */
  label(path: string): string;
}

const auth = (token?: string): Record<string, string> => (token ? { Authorization: `Bearer ${token}` } : {});

/** Content-Length by HEAD (redirects followed), or null when the server does not say. */
async function probeSize(url: string, o: HubOptions): Promise<number | null> {
  const doFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  try {
    const resp = await doFetch(url, { method: 'HEAD', headers: o.headers ?? {}, signal: o.signal ?? null, cache: 'no-store' });
    const n = Number(resp.headers.get('content-length') ?? NaN);
    return resp.ok && Number.isSafeInteger(n) ? n : null;
  } catch (err) {
    if (o.signal?.aborted) throw o.signal.reason;
    return null;
  }
}

function fileNameOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? url);
  } catch {
    return url;
  }
}

/**
 * Splits a picked folder's webkitRelativePath list ("models/unet/config.json") into the folder name
 * and paths inside it. Files outside one common top folder keep their paths.
 */
export function splitFolderPaths(relPaths: readonly string[]): { name: string; paths: string[] } {
  const tops = new Set(relPaths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : '')));
  if (tops.size === 1 && !tops.has('')) {
    const [name] = tops as Set<string>;
    return { name: name!, paths: relPaths.map((p) => p.slice(name!.length + 1)) };
  }
  return { name: 'folder', paths: [...relPaths] };
}

/** `beside`: tokenizer files picked with the checkpoint (a folder holding both), stored with it. */
function singleFilePlan(base: Omit<ImportPlan, 'layout' | 'files' | 'label'>, bytes: number | null, url: string | undefined, origin: string, beside: readonly PlannedFile[] = []): ImportPlan {
  const file: PlannedFile = url === undefined ? { path: CHECKPOINT_FILE, bytes } : { path: CHECKPOINT_FILE, bytes, url };
  return { ...base, layout: 'single-file', files: [file, ...beside], label: (p) => (p === CHECKPOINT_FILE ? origin : p) };
}

export async function planImport(req: ImportRequest, o: HubOptions = {}): Promise<ImportPlan> {
  switch (req.type) {
    case 'repo': {
      const hub = normalizeHub(req.hub ?? DEFAULT_HUB);
      const revision = req.revision ?? 'main';
      const headers = auth(req.token);
      const files = await fetchRepoFiles(hub, req.repo, revision, { ...o, headers });
      const source: ModelSource = { type: 'url', url: `${hub}/${req.repo}`, repo: req.repo, hub, revision };
      return { id: modelIdFor(source), name: req.repo, layout: 'diffusers', source, files, blobs: new Map(), headers, label: (p) => p };
    }
    case 'url': {
      refusePickle(fileNameOf(req.url));
      const headers = auth(req.token);
      const source: ModelSource = { type: 'url', url: req.url };
      const name = fileNameOf(req.url);
      const bytes = await probeSize(req.url, { ...o, headers });
      return singleFilePlan({ id: modelIdFor(source), name, source, blobs: new Map(), headers }, bytes, req.url, name);
    }
    case 'file': {
      const f = req.file;
      refusePickle(f.name);
      if (!f.name.toLowerCase().endsWith('.safetensors')) throw new BadModelSourceError(f.name, 'choose a .safetensors file (other formats such as .ckpt can run code and are not read)');
      const source: ModelSource = { type: 'file', name: f.name, bytes: f.size, lastModified: f.lastModified };
      return singleFilePlan({ id: modelIdFor(source), name: f.name, source, blobs: new Map([[CHECKPOINT_FILE, f]]), headers: {} }, f.size, undefined, f.name);
    }
    case 'folder':
      return planFolder(req.name, req.files);
    case 'resume':
      return planResume(req.id, auth(req.token));
  }
}

function planFolder(name: string, files: readonly FolderFile[]): ImportPlan {
  const byPath = new Map(files.map((f) => [f.path, f.file]));
  const source: ModelSource = { type: 'folder', name };
  if (!byPath.has(MODEL_INDEX)) {
    const weights = files.filter((f) => f.path.toLowerCase().endsWith('.safetensors'));
    if (weights.length === 0) files.forEach((f) => refusePickle(`${name}/${f.path}`));
    if (weights.length === 1) {
      const w = weights[0]!;
      // the tokenizer folders beside the checkpoint (a single file carries no vocabulary) are stored with it
      const tokenizerPaths = new Set(Object.values(SINGLE_FILE_TOKENIZER_FILES).flat());
      const beside = files.filter((f) => tokenizerPaths.has(f.path));
      const id = modelIdFor(source, [w, ...beside].map((f) => `${f.path}|${f.file.size}`).join('|'));
      const blobs = new Map([[CHECKPOINT_FILE, w.file], ...beside.map((f) => [f.path, f.file] as const)]);
      const planned = beside.map((f) => ({ path: f.path, bytes: f.file.size }));
      return singleFilePlan({ id, name, source, blobs, headers: {} }, w.file.size, undefined, `${name}/${w.path}`, planned);
    }
  }
  const selected = selectDiffusersFiles(files.map((f) => ({ rfilename: f.path, size: f.file.size })), name);
  const key = selected.map((f) => `${f.path}:${f.bytes}`).join('|');
  return {
    id: modelIdFor(source, key),
    name,
    layout: 'diffusers',
    source,
    files: selected,
    blobs: new Map(selected.map((f) => [f.path, byPath.get(f.path)!])),
    headers: {},
    label: (p) => `${name}/${p}`,
  };
}

async function planResume(id: string, headers: Record<string, string>): Promise<ImportPlan> {
  const dir = await modelDir(id, false);
  const text = dir ? await readText(dir, PENDING_FILE) : null;
  let pending = null;
  try {
    pending = text === null ? null : validatePending(JSON.parse(text), id);
  } catch {
    pending = null;
  }
  if (!pending) throw new BadModelSourceError(id, 'there is no unfinished import to resume (delete the folder and import again)');
  if (pending.source.type !== 'url' || pending.files.some((f) => f.url === undefined)) {
    const what = pending.source.type === 'file' ? 'file' : 'folder';
    throw new BadModelSourceError(pending.name, `to resume, choose the same ${what} again: the studio continues from the bytes it already copied`);
  }
  const origin = pending.layout === 'single-file' ? pending.name : '';
  return { ...pending, blobs: new Map(), headers, label: (p) => (origin && p === CHECKPOINT_FILE ? origin : p) };
}
