import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUNetConfig, parseVaeConfig, SD15_UNET_CONFIG, SD15_VAE_CONFIG, SDXL_BASE_UNET_CONFIG, SDXL_VAE_CONFIG, type UNetConfig, type VaeConfig } from '../config';
import { isModelFileError } from '../errors';
import { NodeFileSource } from '../safetensors/node-source';
import { SafetensorsFile } from '../safetensors/reader';
import { parseTextEncoderConfig, SDXL_CLIP_L_CONFIG } from '../text-encoder/config';
import { textEncoderWeightShapes } from '../text-encoder/weights';
import { CONFIG_HINTS_KEY, readConfigHints } from './config-hints';
import { inferClipLConfig, inferSingleFileConfigs, inferVaeConfig } from './infer-config';
import { inferUNetConfig } from './infer-unet-config';
import { planSingleFile } from './single-file';
import { tinySgmCheckpoint } from './tiny-single-file.fixture';
import { sgmUNetNameMap } from './unet-sgm';
import { unetTensorSpecs } from './unet-diffusers';
import { diffusersToLdmVaeName, ldmVaeShape, vaeTensorSpecs } from './vae-ldm';

const golden = (p: string) => JSON.parse(readFileSync(join('golden/models', p), 'utf8')) as Record<string, unknown>;
const tmp = mkdtempSync(join(tmpdir(), 'cidm-infer-'));
const opened: SafetensorsFile[] = [];
async function open(name: string, bytes: Uint8Array): Promise<SafetensorsFile> {
  writeFileSync(join(tmp, name), bytes);
  const f = await SafetensorsFile.open(await NodeFileSource.open(join(tmp, name), name));
  opened.push(f);
  return f;
}
afterAll(async () => {
  for (const f of opened) await f.close();
});

/** The SGM names and stored shapes of a UNet config (the reference configs stand in for real files). */
function sgmUNetShapes(c: UNetConfig): Map<string, readonly number[]> {
  const { toSource } = sgmUNetNameMap(c);
  return new Map(unetTensorSpecs(c).map((s) => [toSource.get(s.name)!, s.shape]));
}
function ldmVaeShapes(c: VaeConfig): Map<string, readonly number[]> {
  return new Map(vaeTensorSpecs(c).map((s) => [`first_stage_model.${diffusersToLdmVaeName(s.name, c)}`, ldmVaeShape(s.name, s.shape)]));
}

describe('configs read off a single file', () => {
  let tiny: SafetensorsFile;
  beforeAll(async () => {
    tiny = await open('tiny.safetensors', tinySgmCheckpoint());
  });

  it('the tiny SGM file gives the golden folder configs (UNet, VAE, both text encoders) and the SDXL scheduler', () => {
    const c = inferSingleFileConfigs(tiny);
    expect(c.kind).toBe('sdxl');
    expect(parseUNetConfig(c.unet)).toEqual(parseUNetConfig(golden('unet/config.json')));
    expect(parseVaeConfig(c.vae)).toEqual(parseVaeConfig(golden('vae/config.json')));
    expect(parseTextEncoderConfig(c.textEncoder)).toEqual(parseTextEncoderConfig(golden('text_encoder/config.json')));
    expect(parseTextEncoderConfig(c.textEncoder2, { withProjection: true })).toEqual(parseTextEncoderConfig(golden('text_encoder_2/config.json'), { withProjection: true }));
    const s = golden('scheduler/scheduler_config.json');
    for (const [k, v] of Object.entries(c.scheduler)) expect(v, k).toEqual(s[k]);
    // planning needs no config from outside either
    expect(planSingleFile(tiny).components).toEqual(['unet', 'vae', 'text_encoder', 'text_encoder_2']);
  });

  it('without the hints the reference rules apply, and the tiny widths are refused by name', async () => {
    const bare = await open('bare.safetensors', tinySgmCheckpoint({ hints: false }));
    expect(() => inferSingleFileConfigs(bare)).toThrow(/CLIP-L text encoder's architecture off its tensors: a 32-wide encoder does not split into 64-wide heads; the file needs a `text_encoder.num_attention_heads` config hint/);
    expect(() => inferSingleFileConfigs(bare)).toThrow(expect.objectContaining({ code: 'wrong-model', file: 'bare.safetensors' }));
  });

  it('SDXL base and SD-1.5 shapes give their reference UNet and VAE configs', () => {
    for (const [kind, unet, vae, pooled] of [['sdxl', SDXL_BASE_UNET_CONFIG, SDXL_VAE_CONFIG, 1280], ['sd15', SD15_UNET_CONFIG, SD15_VAE_CONFIG, undefined]] as const) {
      const u = sgmUNetShapes(unet);
      const inferred = inferUNetConfig({ file: kind, kind, names: [...u.keys()], shape: (n) => u.get(n), pooledDim: pooled, hints: undefined });
      expect(parseUNetConfig(inferred), kind).toEqual(unet);
      const v = ldmVaeShapes(vae);
      expect(parseVaeConfig(inferVaeConfig(kind, [...v.keys()], (n) => v.get(n), kind, undefined)), kind).toEqual(vae);
    }
  });

  it("SDXL's CLIP-L shapes give its config (12 heads of 64), with or without transformers' text_model level", () => {
    for (const prefix of ['conditioner.embedders.0.transformer.text_model.', 'cond_stage_model.transformer.']) {
      const shapes = new Map([...textEncoderWeightShapes(SDXL_CLIP_L_CONFIG)].map(([n, s]) => [prefix + n.replace(/^text_model\./, ''), s] as const));
      const json = inferClipLConfig('clip', [...shapes.keys()], (n) => shapes.get(n), undefined);
      expect(parseTextEncoderConfig(json)).toEqual(SDXL_CLIP_L_CONFIG);
    }
  });

  it('a UNet whose layout cannot be read is refused by name', () => {
    const u = sgmUNetShapes(SDXL_BASE_UNET_CONFIG);
    u.delete('model.diffusion_model.input_blocks.0.0.weight');
    let err: unknown;
    try {
      inferUNetConfig({ file: 'odd.safetensors', kind: 'sdxl', names: [...u.keys()], shape: (n) => u.get(n), hints: undefined });
    } catch (e) {
      err = e;
    }
    expect(isModelFileError(err, 'wrong-model')).toBe(true);
    expect((err as Error).message).toContain('odd.safetensors, tensor "model.diffusion_model.input_blocks.0.0.weight": cannot read the UNet\'s architecture');
  });

  it('config hints: only the fields no shape tells, valid values, valid JSON', () => {
    expect(readConfigHints({}, 'f')).toEqual({});
    expect(readConfigHints({ [CONFIG_HINTS_KEY]: '{"unet":{"norm_num_groups":8}}' }, 'f')).toEqual({ unet: { norm_num_groups: 8 } });
    const bad = (text: string) => () => readConfigHints({ [CONFIG_HINTS_KEY]: text }, 'f.safetensors');
    expect(bad('{"unet":{"block_out_channels":[1]}}')).toThrow(expect.objectContaining({ code: 'bad-config', tensor: 'unet.block_out_channels' }));
    expect(bad('{"unet":{"norm_num_groups":0}}')).toThrow(/invalid value 0/);
    expect(bad('{"lora":{}}')).toThrow(expect.objectContaining({ tensor: 'lora' }));
    expect(bad('{')).toThrow(/not valid JSON/);
  });
});
