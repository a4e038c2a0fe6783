import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUNetConfig, parseVaeConfig, SDXL_BASE_UNET_CONFIG } from '../config';
import { NodeFileSource } from '../safetensors/node-source';
import { SafetensorsFile } from '../safetensors/reader';
import { encodeSafetensors } from '../safetensors/writer';
import { readMapped, type Component } from './mapping';
import { componentMappings, detectSingleFileKind, folderMappings, planSingleFile } from './single-file';
import { loadF32Safetensors, tinySgmCheckpoint } from './tiny-single-file.fixture';

const unetConfig = parseUNetConfig(JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')));
const vaeConfig = parseVaeConfig(JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')));
const FOLDER: Record<Component, string> = {
  unet: 'golden/models/unet/diffusion_pytorch_model.safetensors',
  vae: 'golden/models/vae/diffusion_pytorch_model.safetensors',
  text_encoder: 'golden/models/text_encoder/model.safetensors',
  text_encoder_2: 'golden/models/text_encoder_2/model.safetensors',
};

const load = loadF32Safetensors;
const buildSgmCheckpoint = (o: { dropUNet?: string } = {}) => tinySgmCheckpoint(o);

const tmp = mkdtempSync(join(tmpdir(), 'cidm-sf-'));
const files: SafetensorsFile[] = [];
async function openBytes(name: string, bytes: Uint8Array): Promise<SafetensorsFile> {
  writeFileSync(join(tmp, name), bytes);
  const f = await SafetensorsFile.open(await NodeFileSource.open(join(tmp, name)));
  files.push(f);
  return f;
}
let ckpt: SafetensorsFile;
beforeAll(async () => {
  ckpt = await openBytes('tiny_sdxl.safetensors', buildSgmCheckpoint());
});
afterAll(async () => {
  for (const f of files) await f.close();
});

describe('single-file SDXL checkpoint', () => {
  it('detects SDXL and plans every component; unused = the buffers that are not parameters', () => {
    expect(detectSingleFileKind(ckpt)).toBe('sdxl');
    const plan = planSingleFile(ckpt, { unet: unetConfig, vae: vaeConfig });
    expect(plan.components).toEqual(['unet', 'vae', 'text_encoder', 'text_encoder_2']);
    expect([...plan.unused].sort()).toEqual(['conditioner.embedders.0.transformer.text_model.embeddings.position_ids', 'conditioner.embedders.1.model.logit_scale']);
  });

  it('loads every component exactly as the diffusers folder holds it (renames, reshapes, q/k/v split, transpose)', async () => {
    const plan = planSingleFile(ckpt, { unet: unetConfig, vae: vaeConfig });
    for (const component of plan.components) {
      const expected = load(FOLDER[component]);
      const maps = componentMappings(ckpt, plan, component);
      expect(maps.map((m) => m.target).sort()).toEqual([...expected.keys()].sort());
      for (const m of maps) {
        const got = await readMapped(ckpt, m, 'f32');
        const want = expected.get(m.target)!;
        expect(got.shape, m.target).toEqual(want.shape);
        expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer)), m.target).toBe(true);
      }
    }
  });

  it('componentMappings come in file order (streamable)', () => {
    const plan = planSingleFile(ckpt, { unet: unetConfig, vae: vaeConfig });
    const begins = componentMappings(ckpt, plan, 'unet').map((m) => ckpt.info(m.source).begin);
    expect(begins).toEqual([...begins].sort((a, b) => a - b));
  });

  it('a missing UNet tensor, the wrong config, or a non-checkpoint are named errors', async () => {
    const holed = await openBytes('holed.safetensors', buildSgmCheckpoint({ dropUNet: 'mid_block.attentions.0.proj_out.weight' }));
    expect(() => planSingleFile(holed, { unet: unetConfig, vae: vaeConfig })).toThrow(
      expect.objectContaining({ code: 'missing-tensor', tensor: 'mid_block.attentions.0.proj_out.weight', file: 'holed.safetensors' }),
    );
    // Given the real SDXL base config, the tiny UNet is the wrong model.
    expect(() => planSingleFile(ckpt, { unet: SDXL_BASE_UNET_CONFIG })).toThrow(expect.objectContaining({ code: 'wrong-model', file: 'tiny_sdxl.safetensors' }));
    const unet = await SafetensorsFile.open(await NodeFileSource.open(FOLDER.unet));
    files.push(unet);
    expect(() => detectSingleFileKind(unet)).toThrow(expect.objectContaining({ code: 'wrong-model' }));
  });

  it('a diffusers folder maps as identity, with the old VAE attention names renamed', async () => {
    const vae = await SafetensorsFile.open(await NodeFileSource.open(FOLDER.vae));
    files.push(vae);
    const maps = folderMappings(vae, 'vae');
    expect(maps.every((m) => m.source === m.target)).toBe(true);
    const old = await openBytes('old_vae.safetensors', encodeSafetensors([{ name: 'decoder.mid_block.attentions.0.query.weight', dtype: 'F32', shape: [1, 1], data: new Float32Array(1) }]));
    expect(folderMappings(old, 'vae')[0]!.target).toBe('decoder.mid_block.attentions.0.to_q.weight');
  });
});
