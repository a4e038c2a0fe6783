/**
 * Test fixture (Node only, used by the VAE tests): the golden tiny VAE rewritten the way pre-0.14
 * diffusers / converted LDM files store it: mid-block attention named query/key/value/proj_attn and
 * its projections as 1×1 convs [C, C, 1, 1]. Written with the project's safetensors writer to a temp file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeFileSource } from '../safetensors/node-source';
import { SafetensorsFile } from '../safetensors/reader';
import { encodeSafetensors, type TensorToWrite } from '../safetensors/writer';

export const GOLDEN_VAE = 'golden/models/vae/diffusion_pytorch_model.safetensors';

const TO_LEGACY: [RegExp, string][] = [
  [/(\.mid_block\.attentions\.0)\.to_q\./, '$1.query.'],
  [/(\.mid_block\.attentions\.0)\.to_k\./, '$1.key.'],
  [/(\.mid_block\.attentions\.0)\.to_v\./, '$1.value.'],
  [/(\.mid_block\.attentions\.0)\.to_out\.0\./, '$1.proj_attn.'],
];

export function toLegacyName(name: string): string {
  return TO_LEGACY.reduce((n, [re, to]) => n.replace(re, to), name);
}

/**
 * Writes the legacy-named copy of the golden VAE (optionally dropping tensors or keeping only some)
 * and returns its path.
 */
export async function writeLegacyVae(o: { keep?: (name: string) => boolean; conv1x1?: boolean } = {}): Promise<string> {
  const src = await SafetensorsFile.open(await NodeFileSource.open(GOLDEN_VAE));
  const tensors: TensorToWrite[] = [];
  try {
    for (const t of src.tensors) {
      if (o.keep && !o.keep(t.name)) continue;
      const legacy = toLegacyName(t.name);
      const isProj = legacy !== t.name && t.name.endsWith('.weight') && t.shape.length === 2;
      const shape = isProj && (o.conv1x1 ?? true) ? [...t.shape, 1, 1] : [...t.shape];
      tensors.push({ name: legacy, dtype: 'F32', shape, data: await src.read(t.name, 'f32') });
    }
  } finally {
    await src.close();
  }
  const path = join(mkdtempSync(join(tmpdir(), 'cidm-vae-')), 'legacy_vae.safetensors');
  writeFileSync(path, encodeSafetensors(tensors));
  return path;
}

export async function openFile(path: string): Promise<SafetensorsFile> {
  return SafetensorsFile.open(await NodeFileSource.open(path));
}
