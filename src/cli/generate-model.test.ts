import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isModelFileError } from '../model/errors';
import { encodeSafetensors } from '../model/safetensors/writer';
import { GenerateArgsError } from './generate-args';
import { writeTinySingleFile } from '../model/weights/tiny-single-file.fixture';
import { openModelFolder } from './generate-model';

const dir = mkdtempSync(join(tmpdir(), 'cidm-generate-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A header-only stand-in for a checkpoint: what detectSingleFileKind reads is the tensor names. */
function checkpoint(name: string, names: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, encodeSafetensors(names.map((n) => ({ name: n, dtype: 'F32', shape: [1], data: new Float32Array(1) }))));
  return path;
}

describe('openModelFolder', () => {
  it("opens a diffusers folder with its name and the VAE factor of its vae/config.json", async () => {
    const m = await openModelFolder('golden/models');
    const vae = JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')) as { block_out_channels: number[] };
    expect(m.name).toBe('models');
    expect(m.vaeFactor).toBe(2 ** (vae.block_out_channels.length - 1));
    expect(m.vaeConfigFile).toBe('golden/models/vae/config.json');
    expect(await m.files.exists('unet/config.json')).toBe(true);
  });

  it('opens a single-file SDXL checkpoint: its name, the VAE factor read off its tensors, the tokenizers beside it', async () => {
    const { file } = writeTinySingleFile({ dir: join(dir, 'single') });
    const m = await openModelFolder(file);
    const vae = JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')) as { block_out_channels: number[] };
    expect(m.name).toBe('tiny_sdxl_f32');
    expect(m.vaeFactor).toBe(2 ** (vae.block_out_channels.length - 1));
    expect(m.vaeConfigFile).toContain('VAE config read off its tensors');
    expect(await m.files.exists('checkpoint.safetensors')).toBe(true);
    expect(await m.files.exists('model_index.json')).toBe(false);
    expect(await m.files.text('tokenizer_2/merges.txt')).toBe(readFileSync('golden/models/tokenizer_2/merges.txt', 'utf8'));
    const missing = await m.files.text('tokenizer/special.json').catch((e: unknown) => e);
    expect(isModelFileError(missing, 'missing-file')).toBe(true);
    expect((missing as Error).message).toMatch(/is a single-file checkpoint, which carries no tokenizer\/special.json; put the model's tokenizer folder beside it/);
  });

  it('gives a file that is no checkpoint, a missing path and a folder without model_index.json their own errors', async () => {
    const lora = checkpoint('lora.safetensors', ['lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight']);
    expect(isModelFileError(await openModelFolder(lora).catch((e: unknown) => e), 'wrong-model')).toBe(true);
    await expect(openModelFolder(join(dir, 'nothing'))).rejects.toThrow(GenerateArgsError);
    const pickle = join(dir, 'model.ckpt');
    writeFileSync(pickle, 'x');
    const refused = await openModelFolder(pickle).catch((e: unknown) => e);
    expect(isModelFileError(refused, 'unsafe-format')).toBe(true);
    expect((refused as Error).message).toMatch(/model\.ckpt: a \.ckpt file is a PyTorch pickle, and loading a pickle can run any code/);
    const other = join(dir, 'model.onnx');
    writeFileSync(other, 'x');
    await expect(openModelFolder(other)).rejects.toThrow(/give a diffusers folder \(with model_index.json\) or a single-file .safetensors checkpoint/);
    mkdirSync(join(dir, 'empty'));
    const missing = await openModelFolder(join(dir, 'empty')).catch((e: unknown) => e);
    expect(isModelFileError(missing, 'missing-file')).toBe(true);
    expect((missing as Error).message).toContain('model_index.json');
  });
});
