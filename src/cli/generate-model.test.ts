import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isModelFileError } from '../model/errors';
import { encodeSafetensors } from '../model/safetensors/writer';
import { GenerateArgsError } from './generate-args';
import { openModelFolder, SingleFileNotSupportedError } from './generate-model';

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

  it('refuses a single-file SDXL or SD-1.5 checkpoint by name, saying a diffusers folder is needed', async () => {
    const sdxl = checkpoint('sdxl.safetensors', ['model.diffusion_model.input_blocks.0.0.weight', 'conditioner.embedders.0.transformer.text_model.final_layer_norm.weight']);
    const err = await openModelFolder(sdxl).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SingleFileNotSupportedError);
    expect((err as SingleFileNotSupportedError).kind).toBe('sdxl');
    expect((err as Error).message).toMatch(/is a single-file SDXL checkpoint, and the engine cannot yet run a whole pipeline .* Give --model a diffusers folder/);
    const sd15 = checkpoint('sd15.safetensors', ['model.diffusion_model.input_blocks.0.0.weight', 'cond_stage_model.transformer.text_model.final_layer_norm.weight']);
    expect(await openModelFolder(sd15).catch((e: SingleFileNotSupportedError) => e.kind)).toBe('sd15');
  });

  it('gives a file that is no checkpoint, a missing path and a folder without model_index.json their own errors', async () => {
    const lora = checkpoint('lora.safetensors', ['lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight']);
    expect(isModelFileError(await openModelFolder(lora).catch((e: unknown) => e), 'wrong-model')).toBe(true);
    await expect(openModelFolder(join(dir, 'nothing'))).rejects.toThrow(GenerateArgsError);
    const other = join(dir, 'model.ckpt');
    writeFileSync(other, 'x');
    await expect(openModelFolder(other)).rejects.toThrow(/give a diffusers folder/);
    mkdirSync(join(dir, 'empty'));
    const missing = await openModelFolder(join(dir, 'empty')).catch((e: unknown) => e);
    expect(isModelFileError(missing, 'missing-file')).toBe(true);
    expect((missing as Error).message).toContain('model_index.json');
  });
});
