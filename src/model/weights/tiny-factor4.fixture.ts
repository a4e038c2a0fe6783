/**
 * Test fixture (Node only): the tiny golden SDXL with a three-level VAE, i.e. a latent factor of 4
 * instead of 8 (issue "every model": such a model used to import as verified and then generate a wrong
 * picture, because the loop assumed 8). Made at test time in a temp folder, never committed.
 *
 * The VAE keeps golden/models' weights, renamed to the three levels (block_out_channels 16, 32, 64):
 * the encoder drops its last block and the third block's downsampler; the decoder (levels reversed)
 * keeps up_blocks.0, and takes golden up_blocks.2 and .3 as its .1 and .2, whose channel counts
 * (64 → 32 with an upsampler, 32 → 16 without) are exactly what levels 1 and 2 of the shorter VAE need.
 * Every other part is golden/models' own (linked, not copied).
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeSafetensors } from '../safetensors/writer';
import { loadF32Safetensors, TINY_FOLDER } from './tiny-single-file.fixture';

/** golden name → three-level name, or null for a tensor the shorter VAE does not have. */
export function factor4VaeName(name: string): string | null {
  if (/^encoder\.down_blocks\.3\./.test(name) || /^encoder\.down_blocks\.2\.downsamplers\./.test(name)) return null;
  if (/^decoder\.up_blocks\.1\./.test(name)) return null;
  return name.replace(/^decoder\.up_blocks\.2\./, 'decoder.up_blocks.1.').replace(/^decoder\.up_blocks\.3\./, 'decoder.up_blocks.2.');
}

export function writeTinyFactor4Folder(dir = mkdtempSync(join(tmpdir(), 'cidm-tiny-f4-'))): string {
  const golden = resolve(TINY_FOLDER);
  for (const entry of readdirSync(golden)) if (entry !== 'vae') symlinkSync(join(golden, entry), join(dir, entry));
  mkdirSync(join(dir, 'vae'));
  const config = JSON.parse(readFileSync(join(golden, 'vae/config.json'), 'utf8')) as Record<string, unknown[]>;
  const three = (k: string) => (config[k] as unknown[]).slice(0, 3);
  writeFileSync(join(dir, 'vae/config.json'), JSON.stringify({ ...config, block_out_channels: three('block_out_channels'), down_block_types: three('down_block_types'), up_block_types: three('up_block_types') }, null, 2));
  const tensors = [];
  for (const [name, t] of loadF32Safetensors(join(golden, 'vae/diffusion_pytorch_model.safetensors'))) {
    const renamed = factor4VaeName(name);
    if (renamed) tensors.push({ name: renamed, dtype: 'F32' as const, shape: t.shape, data: t.data });
  }
  writeFileSync(join(dir, 'vae/diffusion_pytorch_model.safetensors'), encodeSafetensors(tensors));
  return dir;
}
