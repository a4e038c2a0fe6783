import { describe, expect, it } from 'vitest';
import { BadModelSourceError } from '../errors';
import { parseModelRef, repoApiUrl, resolveUrl, selectDiffusersFiles, type Sibling } from './hub';

const sib = (rfilename: string, size = 10): Sibling => ({ rfilename, size });

/** The diffusers layout of stabilityai/stable-diffusion-xl-base-1.0 (abridged: ONNX/OpenVINO/Flax left in). */
const SDXL_REPO: Sibling[] = [
  '.gitattributes', 'README.md', 'model_index.json', 'sd_xl_base_1.0.safetensors', 'sd_xl_offset_example-lora_1.0.safetensors',
  'scheduler/scheduler_config.json',
  'text_encoder/config.json', 'text_encoder/model.fp16.safetensors', 'text_encoder/model.safetensors', 'text_encoder/model.onnx', 'text_encoder/flax_model.msgpack',
  'text_encoder_2/config.json', 'text_encoder_2/model.fp16.safetensors', 'text_encoder_2/model.safetensors',
  'tokenizer/merges.txt', 'tokenizer/special_tokens_map.json', 'tokenizer/tokenizer_config.json', 'tokenizer/vocab.json',
  'tokenizer_2/merges.txt', 'tokenizer_2/special_tokens_map.json', 'tokenizer_2/tokenizer_config.json', 'tokenizer_2/vocab.json',
  'unet/config.json', 'unet/diffusion_pytorch_model.fp16.safetensors', 'unet/diffusion_pytorch_model.safetensors', 'unet/openvino_model.bin',
  'vae/config.json', 'vae/diffusion_pytorch_model.fp16.safetensors', 'vae/diffusion_pytorch_model.safetensors',
  'vae_1_0/config.json', 'vae_1_0/diffusion_pytorch_model.fp16.safetensors', 'vae_decoder/model.onnx',
].map((p) => sib(p));

describe('selectDiffusersFiles', () => {
  it('takes the SDXL pipeline files, the fp16 weights, and nothing else', () => {
    const paths = selectDiffusersFiles(SDXL_REPO, 'repo').map((f) => f.path);
    expect(paths).toEqual([
      'model_index.json',
      'unet/config.json', 'unet/diffusion_pytorch_model.fp16.safetensors',
      'vae/config.json', 'vae/diffusion_pytorch_model.fp16.safetensors',
      'text_encoder/config.json', 'text_encoder/model.fp16.safetensors',
      'text_encoder_2/config.json', 'text_encoder_2/model.fp16.safetensors',
      'tokenizer/vocab.json', 'tokenizer/merges.txt', 'tokenizer/tokenizer_config.json', 'tokenizer/special_tokens_map.json',
      'tokenizer_2/vocab.json', 'tokenizer_2/merges.txt', 'tokenizer_2/tokenizer_config.json', 'tokenizer_2/special_tokens_map.json',
      'scheduler/scheduler_config.json',
    ]);
  });
  it('falls back to the full-precision weights when there is no fp16 variant', () => {
    const repo = SDXL_REPO.filter((s) => s.rfilename !== 'unet/diffusion_pytorch_model.fp16.safetensors');
    expect(selectDiffusersFiles(repo, 'r').map((f) => f.path)).toContain('unet/diffusion_pytorch_model.safetensors');
  });
  it('keeps sizes from size or lfs.size, and null when the list has none', () => {
    const files = selectDiffusersFiles(
      SDXL_REPO.map((s) =>
        s.rfilename === 'unet/diffusion_pytorch_model.fp16.safetensors' ? { rfilename: s.rfilename, lfs: { size: 5_135_149_760 } } : s.rfilename === 'model_index.json' ? { rfilename: s.rfilename } : s,
      ),
      'r',
    );
    expect(files.find((f) => f.path.startsWith('unet/diffusion'))!.bytes).toBe(5_135_149_760);
    expect(files.find((f) => f.path === 'model_index.json')!.bytes).toBeNull();
  });
  it('an SD-1.5 pipeline has no second text encoder or tokenizer and needs none', () => {
    const sd15 = SDXL_REPO.filter((s) => !/_2\//.test(s.rfilename));
    const paths = selectDiffusersFiles(sd15, 'r').map((f) => f.path);
    expect(paths.some((p) => p.includes('_2/'))).toBe(false);
    expect(paths).toContain('text_encoder/model.fp16.safetensors');
  });
  it('says what is missing', () => {
    expect(() => selectDiffusersFiles(SDXL_REPO.filter((s) => s.rfilename !== 'model_index.json'), 'x/y')).toThrow(
      /no model_index\.json.*sd_xl_base_1\.0\.safetensors/,
    );
    expect(() => selectDiffusersFiles(SDXL_REPO.filter((s) => s.rfilename !== 'tokenizer/merges.txt'), 'x/y')).toThrow('tokenizer/merges.txt is missing');
    const binOnly = SDXL_REPO.filter((s) => !s.rfilename.startsWith('vae/diffusion')).concat(sib('vae/diffusion_pytorch_model.bin'));
    expect(() => selectDiffusersFiles(binOnly, 'x/y')).toThrow(/vae has only diffusion_pytorch_model\.bin.*\.safetensors weights only/);
    expect(() => selectDiffusersFiles([], 'x/y')).toThrow(BadModelSourceError);
  });
});

describe('parseModelRef', () => {
  it('reads repo ids, repo page URLs and file URLs', () => {
    expect(parseModelRef('stabilityai/stable-diffusion-xl-base-1.0')).toEqual({ type: 'repo', repo: 'stabilityai/stable-diffusion-xl-base-1.0', revision: 'main' });
    expect(parseModelRef('  tiny/sdxl ')).toEqual({ type: 'repo', repo: 'tiny/sdxl', revision: 'main' });
    expect(parseModelRef('https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0')).toMatchObject({ type: 'repo', repo: 'stabilityai/stable-diffusion-xl-base-1.0' });
    expect(parseModelRef('https://huggingface.co/a/b/tree/fp16')).toEqual({ type: 'repo', repo: 'a/b', revision: 'fp16' });
    expect(parseModelRef('http://127.0.0.1:4180/tiny/sdxl', 'http://127.0.0.1:4180')).toMatchObject({ type: 'repo', repo: 'tiny/sdxl' });
    expect(parseModelRef('https://huggingface.co/a/b/blob/main/sd_xl_base_1.0.safetensors')).toEqual({
      type: 'file-url',
      url: 'https://huggingface.co/a/b/resolve/main/sd_xl_base_1.0.safetensors',
    });
    expect(parseModelRef('https://example.com/models/x.safetensors?download=true')).toEqual({ type: 'file-url', url: 'https://example.com/models/x.safetensors?download=true' });
  });
  it('refuses what it cannot import', () => {
    expect(() => parseModelRef('')).toThrow(BadModelSourceError);
    expect(() => parseModelRef('just words')).toThrow(/repo id/);
    expect(() => parseModelRef('ftp://x/y.safetensors')).toThrow(/http/);
    expect(() => parseModelRef('https://example.com/some/page')).toThrow(/neither/);
  });
});

describe('hub URLs', () => {
  it('builds the API and resolve URLs, escaping path parts', () => {
    expect(repoApiUrl('https://huggingface.co/', 'a/b')).toBe('https://huggingface.co/api/models/a/b?blobs=true');
    expect(repoApiUrl('https://huggingface.co', 'a/b', 'v1')).toBe('https://huggingface.co/api/models/a/b/revision/v1?blobs=true');
    expect(resolveUrl('http://127.0.0.1:4180', 'tiny/sdxl', 'unet/my file.json')).toBe('http://127.0.0.1:4180/tiny/sdxl/resolve/main/unet/my%20file.json');
  });
});
