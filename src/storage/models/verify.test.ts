/** Verification against the tiny SDXL pipeline in golden/models (read as Blobs from disk, like OPFS files). */
import { openAsBlob } from 'node:fs';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../../model/errors';
import { tinySgmCheckpoint } from '../../model/weights/tiny-single-file.fixture';
import { verifyDiffusers, verifyFile, verifySingleFile, type OpenFile } from './verify';

const ROOT = join(process.cwd(), 'golden/models');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [relative(ROOT, join(dir, n))]));
}
const PATHS = walk(ROOT).sort();

/** Opens golden files, with some replaced. */
function opener(replace: Record<string, () => Promise<Blob>> = {}): OpenFile {
  return async (path) => (replace[path] ? replace[path]() : openAsBlob(join(ROOT, path)));
}

async function refusal(p: Promise<unknown>): Promise<ModelFileError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ModelFileError);
  return err as ModelFileError;
}

describe('verifyDiffusers', () => {
  it('accepts the tiny SDXL pipeline as sdxl with every component', async () => {
    const v = await verifyDiffusers(opener(), PATHS);
    expect(v.kind).toBe('sdxl');
    expect(v.components).toEqual(['unet', 'vae', 'text_encoder', 'text_encoder_2', 'tokenizer', 'scheduler', 'tokenizer_2']);
    expect(v.needs).toEqual([]);
  });
  it('refuses UNet weights of another model (here the text encoder) as wrong-model, naming the file', async () => {
    const e = await refusal(verifyDiffusers(opener({ 'unet/diffusion_pytorch_model.safetensors': () => openAsBlob(join(ROOT, 'text_encoder/model.safetensors')) }), PATHS));
    expect(e.code).toBe('wrong-model');
    expect(e.message).toMatch(/^unet\/diffusion_pytorch_model\.safetensors.*none of the \d+ tensors/);
  });
  it('refuses a truncated UNet file', async () => {
    const cut = async () => {
      const b = await openAsBlob(join(ROOT, 'unet/diffusion_pytorch_model.safetensors'));
      return b.slice(0, b.size - 4096);
    };
    const e = await refusal(verifyDiffusers(opener({ 'unet/diffusion_pytorch_model.safetensors': cut }), PATHS));
    expect(e.code).toBe('truncated');
    expect(e.file).toBe('unet/diffusion_pytorch_model.safetensors');
  });
  it('refuses a pipeline that is not SD/SDXL, and a UNet that disagrees with it', async () => {
    const index = (cls: string) => async () => new Blob([JSON.stringify({ _class_name: cls })]);
    const e1 = await refusal(verifyDiffusers(opener({ 'model_index.json': index('StableDiffusion3Pipeline') }), PATHS));
    expect(e1.code).toBe('wrong-model');
    expect(e1.message).toMatch(/model_index\.json.*StableDiffusion3Pipeline/);
    const e2 = await refusal(verifyDiffusers(opener({ 'model_index.json': index('StableDiffusionPipeline') }), PATHS));
    expect(e2.message).toMatch(/unet\/config\.json.*an SDXL UNet but model_index\.json names a StableDiffusionPipeline/);
  });
  it('refuses a text encoder whose width does not match the UNet', async () => {
    const cfg = async () => {
      const j = JSON.parse(await (await openAsBlob(join(ROOT, 'unet/config.json'))).text());
      return new Blob([JSON.stringify({ ...j, cross_attention_dim: 96 })]);
    };
    const e = await refusal(verifyDiffusers(opener({ 'unet/config.json': cfg }), PATHS));
    expect(e.code).toBe('wrong-model');
  });
  it('needs the SDXL second tokenizer', async () => {
    const e = await refusal(verifyDiffusers(opener(), PATHS.filter((p) => !p.startsWith('tokenizer_2/'))));
    expect(e.code).toBe('missing-file');
    expect(e.file).toBe('tokenizer_2/vocab.json');
  });
});

describe('verifyFile', () => {
  it('checks JSON, safetensors headers and merges files on their own', async () => {
    for (const p of PATHS) await verifyFile(p, await openAsBlob(join(ROOT, p)));
    await expect(verifyFile('unet/config.json', new Blob(['{"a":'])).then(() => null, (e: ModelFileError) => e.code)).resolves.toBe('bad-config');
    await expect(verifyFile('x.safetensors', new Blob([new Uint8Array(16)])).then(() => null, (e: ModelFileError) => e.code)).resolves.toBe('bad-header');
    await expect(verifyFile('tokenizer/merges.txt', new Blob(['<html>'])).then(() => null, (e: ModelFileError) => e.code)).resolves.toBe('bad-config');
  });
});

describe('verifySingleFile', () => {
  it('refuses a diffusers UNet file given as a single-file checkpoint, under the name it came with', async () => {
    const e = await refusal(verifySingleFile(opener({ 'checkpoint.safetensors': () => openAsBlob(join(ROOT, 'unet/diffusion_pytorch_model.safetensors')) }), 'checkpoint.safetensors', 'my-model.safetensors'));
    expect(e.code).toBe('wrong-model');
    expect(e.message).toMatch(/^my-model\.safetensors: no tensor starts with "model\.diffusion_model\."/);
  });

  const single = (bytes: Uint8Array): OpenFile => async () => new Blob([bytes as Uint8Array<ArrayBuffer>]);

  it('accepts the tiny SGM checkpoint (configs read off its tensors); the tokenizers it lacks are needs unless stored beside it', async () => {
    const open = single(tinySgmCheckpoint({ dtype: 'BF16' }));
    const alone = await verifySingleFile(open, 'checkpoint.safetensors', 'tiny.safetensors');
    expect(alone.kind).toBe('sdxl');
    expect(alone.components).toEqual(['unet', 'vae', 'text_encoder', 'text_encoder_2']);
    expect(alone.needs.map((n) => [n.component, n.files])).toEqual([
      ['tokenizer', ['tokenizer/vocab.json', 'tokenizer/merges.txt']],
      ['tokenizer_2', ['tokenizer_2/vocab.json', 'tokenizer_2/merges.txt']],
    ]);
    const beside = ['checkpoint.safetensors', 'tokenizer/vocab.json', 'tokenizer/merges.txt', 'tokenizer_2/vocab.json', 'tokenizer_2/merges.txt'];
    const full = await verifySingleFile(open, 'checkpoint.safetensors', 'tiny.safetensors', beside);
    expect(full.components).toEqual(['unet', 'vae', 'text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2']);
    expect(full.needs).toEqual([]);
  });

  it('refuses what the studio cannot run, with the reason: a damaged UNet, no usable heads, a text encoder missing a tensor', async () => {
    const holed = await refusal(verifySingleFile(single(tinySgmCheckpoint({ dropUNet: 'up_blocks.0.attentions.1.proj_out.weight' })), 'checkpoint.safetensors', 'holed.safetensors'));
    expect(holed).toMatchObject({ code: 'missing-tensor', file: 'holed.safetensors', tensor: 'up_blocks.0.attentions.1.proj_out.weight' });
    const bare = await refusal(verifySingleFile(single(tinySgmCheckpoint({ hints: false })), 'checkpoint.safetensors', 'bare.safetensors'));
    expect(bare.code).toBe('wrong-model');
    expect(bare.message).toContain('does not split into 64-wide heads');
  });
});
