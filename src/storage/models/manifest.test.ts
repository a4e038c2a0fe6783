import { describe, expect, it } from 'vitest';
import { isSafePath, modelIdFor, slugify, validateManifest, validatePending } from './manifest';
import { splitFolderPaths } from './plan';

const good = {
  version: 1,
  id: 'tiny--sdxl',
  name: 'tiny/sdxl',
  kind: 'sdxl',
  layout: 'diffusers',
  source: { type: 'url', url: 'http://h/tiny/sdxl', repo: 'tiny/sdxl', hub: 'http://h', revision: 'main' },
  files: [
    { path: 'model_index.json', bytes: 603 },
    { path: 'unet/diffusion_pytorch_model.safetensors', bytes: 7266416 },
  ],
  bytes: 7267019,
  components: ['unet'],
  needs: [],
  createdAt: '2025-01-01T00:00:00.000Z',
  verified: true,
};

describe('validateManifest', () => {
  it('accepts a complete verified manifest', () => {
    const r = validateManifest(good, 'tiny--sdxl');
    expect('manifest' in r && r.manifest.bytes).toBe(7267019);
  });
  it('refuses every malformed or unverified one with a reason', () => {
    const cases: [unknown, RegExp][] = [
      [null, /not a JSON object/],
      [{ ...good, version: 2 }, /version/],
      [{ ...good, id: 'other' }, /names the model "other"/],
      [{ ...good, kind: 'sd3' }, /kind/],
      [{ ...good, layout: 'ckpt' }, /layout/],
      [{ ...good, source: { type: 'url' } }, /source/],
      [{ ...good, files: [] }, /file list/],
      [{ ...good, files: [{ path: '../escape', bytes: 1 }], bytes: 1 }, /file list/],
      [{ ...good, files: [{ path: 'a.partial', bytes: 1 }], bytes: 1 }, /file list/],
      [{ ...good, files: [good.files[0], good.files[0]], bytes: 1206 }, /file list/],
      [{ ...good, bytes: 5 }, /add up to 7267019/],
      [{ ...good, needs: [{ component: 'tokenizer' }] }, /needs/],
      [{ ...good, createdAt: 'yesterday' }, /date/],
      [{ ...good, verified: false }, /never verified/],
    ];
    for (const [json, why] of cases) {
      const r = validateManifest(json, 'tiny--sdxl');
      expect('problem' in r ? r.problem : 'accepted').toMatch(why);
    }
  });
});

describe('validatePending', () => {
  const pending = { version: 1, id: 'x-1', name: 'x', layout: 'single-file', source: { type: 'url', url: 'http://h/x.safetensors' }, files: [{ path: 'checkpoint.safetensors', bytes: null, url: 'http://h/x.safetensors' }], createdAt: '2025-01-01T00:00:00Z' };
  it('reads back an import plan, unknown sizes included', () => {
    expect(validatePending(pending, 'x-1')?.files[0]).toEqual({ path: 'checkpoint.safetensors', bytes: null, url: 'http://h/x.safetensors' });
  });
  it('refuses a plan for another id or with bad files', () => {
    expect(validatePending(pending, 'y')).toBeNull();
    expect(validatePending({ ...pending, files: [{ path: '/abs', bytes: 1 }] }, 'x-1')).toBeNull();
    expect(validatePending({ ...pending, files: [{ path: 'a', bytes: -1 }] }, 'x-1')).toBeNull();
  });
});

describe('ids and paths', () => {
  it('makes stable, safe ids from sources', () => {
    expect(slugify('stabilityai/stable-diffusion-xl-base-1.0')).toBe('stabilityai--stable-diffusion-xl-base-1.0');
    expect(slugify('My Model (v2)!')).toBe('my-model-v2');
    expect(slugify('...')).toBe('model');
    expect(modelIdFor({ type: 'url', url: 'h/tiny/sdxl', repo: 'tiny/sdxl', hub: 'h', revision: 'main' })).toBe('tiny--sdxl');
    const a = modelIdFor({ type: 'file', name: 'sd_xl.safetensors', bytes: 10, lastModified: 1 });
    expect(a).toMatch(/^sd_xl-[0-9a-f]{6}$/);
    expect(modelIdFor({ type: 'file', name: 'sd_xl.safetensors', bytes: 10, lastModified: 1 })).toBe(a);
    expect(modelIdFor({ type: 'file', name: 'sd_xl.safetensors', bytes: 11, lastModified: 1 })).not.toBe(a);
    expect(modelIdFor({ type: 'url', url: 'https://x/a/My%20Model.safetensors' })).toMatch(/^my-model-[0-9a-f]{6}$/);
  });
  it('accepts only relative paths without traversal', () => {
    expect(isSafePath('unet/config.json')).toBe(true);
    for (const p of ['', '/a', 'a//b', 'a/../b', './a', 'a\\b', 'x.partial']) expect(isSafePath(p)).toBe(false);
  });
  it('splits a picked folder into its name and inner paths', () => {
    expect(splitFolderPaths(['models/unet/config.json', 'models/model_index.json'])).toEqual({ name: 'models', paths: ['unet/config.json', 'model_index.json'] });
    expect(splitFolderPaths(['a/x', 'b/y'])).toEqual({ name: 'folder', paths: ['a/x', 'b/y'] });
  });
});
