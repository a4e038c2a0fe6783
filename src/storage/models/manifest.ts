/**
 * manifest.json and import.json: building them and validating what is read back. Validation is strict
 * because a manifest is the only thing that makes a model usable: anything malformed is treated as
 * an incomplete import (shown, deletable), never as a model.
 */
import type { ManifestFile, ModelManifest, ModelSource, PendingImport, PlannedFile } from './types';

export const MANIFEST_FILE = 'manifest.json';
export const PENDING_FILE = 'import.json';
export const PARTIAL_SUFFIX = '.partial';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A model id: lower-case letters, digits, '.', '_' and '-' (also a safe OPFS folder name). */
export function isModelId(id: unknown): id is string {
  return typeof id === 'string' && /^[a-z0-9][a-z0-9._-]{0,127}$/.test(id) && !id.includes('..');
}

/** A relative '/'-path with no empty, '.', '..' or reserved parts (it becomes OPFS folder names). */
export function isSafePath(path: unknown): path is string {
  if (typeof path !== 'string' || path.length === 0 || path.length > 512) return false;
  return path.split('/').every((p) => p.length > 0 && p !== '.' && p !== '..' && !p.endsWith(PARTIAL_SUFFIX) && !/[\\:*?"<>|\0]/.test(p));
}

export function validateSource(v: unknown): ModelSource | null {
  if (!isObj(v)) return null;
  if (v.type === 'url' && isStr(v.url)) {
    if (v.repo === undefined) return { type: 'url', url: v.url };
    if (isStr(v.repo) && isStr(v.hub) && isStr(v.revision)) return { type: 'url', url: v.url, repo: v.repo, hub: v.hub, revision: v.revision };
    return null;
  }
  if (v.type === 'file' && isStr(v.name) && isSize(v.bytes) && typeof v.lastModified === 'number') {
    return { type: 'file', name: v.name, bytes: v.bytes, lastModified: v.lastModified };
  }
  if (v.type === 'folder' && isStr(v.name)) return { type: 'folder', name: v.name };
  return null;
}

function validateFiles(v: unknown): ManifestFile[] | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const seen = new Set<string>();
  const out: ManifestFile[] = [];
  for (const f of v) {
    if (!isObj(f) || !isSafePath(f.path) || !isSize(f.bytes) || seen.has(f.path)) return null;
    seen.add(f.path);
    out.push({ path: f.path, bytes: f.bytes });
  }
  return out;
}

/**
 * The manifest if `json` is a complete, verified one for model `id`; otherwise a reason (for the
 * Models page) why the folder is not a usable model.
 */
export function validateManifest(json: unknown, id: string): { manifest: ModelManifest } | { problem: string } {
  const bad = (problem: string) => ({ problem });
  if (!isObj(json)) return bad('manifest.json is not a JSON object');
  if (json.version !== 1) return bad(`manifest.json has version ${JSON.stringify(json.version)}, not 1`);
  if (json.id !== id) return bad(`manifest.json names the model ${JSON.stringify(json.id)}, but it is stored as "${id}"`);
  if (!isStr(json.name)) return bad('manifest.json has no name');
  if (json.kind !== 'sdxl' && json.kind !== 'sd15') return bad(`manifest.json has an unknown kind ${JSON.stringify(json.kind)}`);
  if (json.layout !== 'diffusers' && json.layout !== 'single-file') return bad(`manifest.json has an unknown layout ${JSON.stringify(json.layout)}`);
  const source = validateSource(json.source);
  if (!source) return bad('manifest.json has no valid source');
  const files = validateFiles(json.files);
  if (!files) return bad('manifest.json has no valid file list');
  const total = files.reduce((a, f) => a + f.bytes, 0);
  if (json.bytes !== total) return bad(`manifest.json says ${JSON.stringify(json.bytes)} bytes but its files add up to ${total}`);
  if (!Array.isArray(json.components) || !json.components.every(isStr)) return bad('manifest.json has no component list');
  if (!Array.isArray(json.needs) || !json.needs.every((n) => isObj(n) && isStr(n.component) && isStr(n.from) && Array.isArray(n.files) && n.files.every(isStr))) {
    return bad('manifest.json has a malformed list of needs');
  }
  if (!isStr(json.createdAt) || Number.isNaN(Date.parse(json.createdAt))) return bad('manifest.json has no valid creation date');
  if (json.verified !== true) return bad('the model was never verified');
  return { manifest: json as unknown as ModelManifest };
}

/** import.json read back, or null when it is malformed (the folder is then only deletable). */
export function validatePending(json: unknown, id: string): PendingImport | null {
  if (!isObj(json) || json.version !== 1 || json.id !== id || !isStr(json.name)) return null;
  if (json.layout !== 'diffusers' && json.layout !== 'single-file') return null;
  const source = validateSource(json.source);
  if (!source || !isStr(json.createdAt) || !Array.isArray(json.files) || json.files.length === 0) return null;
  const files: PlannedFile[] = [];
  for (const f of json.files) {
    if (!isObj(f) || !isSafePath(f.path) || !(f.bytes === null || isSize(f.bytes))) return null;
    if (f.url !== undefined && !isStr(f.url)) return null;
    files.push(f.url === undefined ? { path: f.path, bytes: f.bytes } : { path: f.path, bytes: f.bytes, url: f.url });
  }
  return { version: 1, id, name: json.name, layout: json.layout, source, files, createdAt: json.createdAt };
}

/** Lower-case slug for ids: "stabilityai/SDXL base 1.0" -> "stabilityai--sdxl-base-1.0". */
export function slugify(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/\//g, '--')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return (s || 'model').slice(0, 96);
}

/** FNV-1a 32-bit, hex: a short stable tag so two different files of one name get different ids. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0').slice(0, 6);
}

/**
 * The id an import of `source` gets: the same source always maps to the same id, which is how Resume
 * finds its partial files. `contentKey` (a folder's file list and sizes) separates folders of one name.
 */
export function modelIdFor(source: ModelSource, contentKey = ''): string {
  switch (source.type) {
    case 'url':
      return source.repo !== undefined ? slugify(source.repo) : `${slugify(urlFileStem(source.url))}-${shortHash(source.url)}`;
    case 'file':
      return `${slugify(source.name.replace(/\.safetensors$/i, ''))}-${shortHash(`${source.name}|${source.bytes}|${source.lastModified}`)}`;
    case 'folder':
      return `${slugify(source.name)}-${shortHash(`folder|${source.name}|${contentKey}`)}`;
  }
}

function urlFileStem(url: string): string {
  let last = url;
  try {
    last = new URL(url).pathname.split('/').filter(Boolean).pop() ?? url;
  } catch {
    /* not a URL: use it as it is */
  }
  return decodeURIComponent(last).replace(/\.safetensors$/i, '');
}
