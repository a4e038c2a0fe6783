/**
 * Hugging Face hub access: what a person types (a repo id, a repo page URL, a file URL) -> a model
 * reference, and a repo's file list -> the files of a diffusers pipeline the studio reads. Endpoints
 * (the same ones huggingface_hub uses):
 *   GET {hub}/api/models/{repo}[/revision/{rev}]?blobs=true  -> { siblings: [{ rfilename, size, lfs? }] }
 *   GET {hub}/{repo}/resolve/{rev}/{path}                   -> the file (LFS files redirect to a CDN)
 */
import { ModelFileError } from '../../model/errors';
import { BadModelSourceError } from '../errors';
import type { PlannedFile } from './types';

export const DEFAULT_HUB = 'https://huggingface.co';

export type ModelRef =
  | { type: 'repo'; repo: string; revision: string }
  | { type: 'file-url'; url: string };

const REPO_RE = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** The hub base URL without a trailing slash; refuses anything that is not http(s). */
export function normalizeHub(hub: string): string {
  const h = hub.trim().replace(/\/+$/, '');
  let u: URL;
  try {
    u = new URL(h);
  } catch {
    throw new BadModelSourceError(hub, 'the hub address is not a URL (for example https://huggingface.co)');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new BadModelSourceError(hub, 'the hub address must start with https:// or http://');
  return h;
}

/**
 * Reads what the person typed: "owner/name", "{hub}/owner/name[/tree/rev]", or a URL of a
 * .safetensors file (a hub `/blob/` page link becomes its `/resolve/` download link).
 */
export function parseModelRef(input: string, hub = DEFAULT_HUB): ModelRef {
  const text = input.trim();
  if (REPO_RE.test(text) && !text.toLowerCase().endsWith('.safetensors')) return { type: 'repo', repo: text, revision: 'main' };
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new BadModelSourceError(text || '(empty)', 'type a Hugging Face repo id such as stabilityai/stable-diffusion-xl-base-1.0, or the URL of a .safetensors file');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new BadModelSourceError(text, 'only http(s) URLs can be imported');
  const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[parts.length - 1]?.toLowerCase().endsWith('.safetensors')) {
    if (parts[2] === 'blob') {
      parts[2] = 'resolve';
      u.pathname = '/' + parts.map(encodeURIComponent).join('/');
    }
    return { type: 'file-url', url: u.toString() };
  }
  const onHub = u.origin === new URL(normalizeHub(hub)).origin || u.hostname === 'huggingface.co';
  if (onHub && (parts.length === 2 || (parts.length === 4 && parts[2] === 'tree'))) {
    return { type: 'repo', repo: `${parts[0]}/${parts[1]}`, revision: parts[3] ?? 'main' };
  }
  throw new BadModelSourceError(text, 'this is neither a Hugging Face repo nor a link to a .safetensors file');
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

export function repoApiUrl(hub: string, repo: string, revision = 'main'): string {
  const rev = revision === 'main' ? '' : `/revision/${encodeURIComponent(revision)}`;
  return `${normalizeHub(hub)}/api/models/${encodePath(repo)}${rev}?blobs=true`;
}

export function resolveUrl(hub: string, repo: string, path: string, revision = 'main'): string {
  return `${normalizeHub(hub)}/${encodePath(repo)}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
}

export interface Sibling {
  readonly rfilename: string;
  readonly size?: number;
  readonly lfs?: { readonly size?: number };
}

export interface SelectedFile {
  readonly path: string;
  readonly bytes: number | null;
}

interface Component {
  readonly dir: string;
  readonly config: string;
  /** Weights file stem (without .safetensors / .fp16.safetensors). */
  readonly weights?: string;
  readonly optionalFiles?: readonly string[];
  readonly requiredFiles?: readonly string[];
  /** Needed only by SDXL: taken when present, checked against model_index.json by verify. */
  readonly sdxlOnly?: boolean;
}

/** The parts of a diffusers SD/SDXL pipeline the studio reads (not safety_checker, ONNX or Flax folders). */
const COMPONENTS: readonly Component[] = [
  { dir: 'unet', config: 'config.json', weights: 'diffusion_pytorch_model' },
  { dir: 'vae', config: 'config.json', weights: 'diffusion_pytorch_model' },
  { dir: 'text_encoder', config: 'config.json', weights: 'model' },
  { dir: 'text_encoder_2', config: 'config.json', weights: 'model', sdxlOnly: true },
  { dir: 'tokenizer', config: 'vocab.json', requiredFiles: ['merges.txt'], optionalFiles: ['tokenizer_config.json', 'special_tokens_map.json'] },
  { dir: 'tokenizer_2', config: 'vocab.json', requiredFiles: ['merges.txt'], optionalFiles: ['tokenizer_config.json', 'special_tokens_map.json'], sdxlOnly: true },
  { dir: 'scheduler', config: 'scheduler_config.json' },
];

export const MODEL_INDEX = 'model_index.json';

const sizeOf = (s: Sibling): number | null => {
  const n = s.size ?? s.lfs?.size;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
};

/**
 * Picks the files of a diffusers pipeline from a repo's (or a folder's) file list, preferring the
 * `.fp16.safetensors` weights (half the download; the studio converts to its compute dtype anyway).
 * Throws a BadModelSourceError that says what is missing when the list is not such a pipeline.
 */
export function selectDiffusersFiles(siblings: readonly Sibling[], source: string): SelectedFile[] {
  const byName = new Map(siblings.map((s) => [s.rfilename, s]));
  if (!byName.has(MODEL_INDEX)) {
    const single = siblings.filter((s) => !s.rfilename.includes('/') && s.rfilename.endsWith('.safetensors'));
    const hint = single.length > 0 ? ` It has ${single.map((s) => s.rfilename).join(', ')}: import that file by its URL instead.` : '';
    throw new BadModelSourceError(source, `there is no ${MODEL_INDEX}, so this is not a diffusers pipeline.${hint}`);
  }
  const out: SelectedFile[] = [{ path: MODEL_INDEX, bytes: sizeOf(byName.get(MODEL_INDEX)!) }];
  const take = (path: string) => {
    const s = byName.get(path);
    if (s) out.push({ path, bytes: sizeOf(s) });
    return s !== undefined;
  };
  for (const c of COMPONENTS) {
    const present = [...byName.keys()].some((n) => n.startsWith(`${c.dir}/`));
    if (!present && c.sdxlOnly) continue;
    const need = (path: string) => {
      if (!take(path)) throw new BadModelSourceError(source, `${path} is missing`);
    };
    need(`${c.dir}/${c.config}`);
    for (const f of c.requiredFiles ?? []) need(`${c.dir}/${f}`);
    for (const f of c.optionalFiles ?? []) take(`${c.dir}/${f}`);
    if (c.weights) {
      const stem = `${c.dir}/${c.weights}`;
      if (!take(`${stem}.fp16.safetensors`) && !take(`${stem}.safetensors`)) {
        const other = [...byName.keys()].find((n) => n.startsWith(`${stem}`) && !n.endsWith('.safetensors'));
        throw new BadModelSourceError(
          source,
          other
            ? `${c.dir} has only ${other.slice(c.dir.length + 1)}; the studio reads .safetensors weights only (pickle .bin files can run code)`
            : `${stem}.safetensors is missing`,
        );
      }
    }
  }
  return out;
}

export interface HubOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** The repo's file list from the hub API, as download plans. */
export async function fetchRepoFiles(hub: string, repo: string, revision: string, o: HubOptions = {}): Promise<PlannedFile[]> {
  const doFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  const api = repoApiUrl(hub, repo, revision);
  let resp: Response;
  try {
    resp = await doFetch(api, { headers: o.headers ?? {}, signal: o.signal ?? null, cache: 'no-store' });
  } catch (err) {
    if (o.signal?.aborted) throw o.signal.reason;
    throw new ModelFileError('io', api, `the hub could not be reached (${(err as Error).message})`);
  }
  if (resp.status === 401 || resp.status === 403) {
    throw new BadModelSourceError(repo, `the hub refused access (HTTP ${resp.status}): the repo is gated or private; accept its license on the hub and give an access token under Advanced`);
  }
  if (resp.status === 404) throw new BadModelSourceError(repo, 'the hub has no such repository (check the spelling, or the hub address under Advanced)');
  if (!resp.ok) throw new ModelFileError('io', api, `the hub answered HTTP ${resp.status} ${resp.statusText}`);
  let info: unknown;
  try {
    info = await resp.json();
  } catch {
    throw new ModelFileError('io', api, 'the hub answer is not JSON');
  }
  const siblings = (info as { siblings?: unknown }).siblings;
  if (!Array.isArray(siblings) || !siblings.every((s) => typeof (s as Sibling).rfilename === 'string')) {
    throw new ModelFileError('io', api, 'the hub answer has no file list (siblings)');
  }
  return selectDiffusersFiles(siblings as Sibling[], repo).map((f) => ({ ...f, url: resolveUrl(hub, repo, f.path, revision) }));
}
