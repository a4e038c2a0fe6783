import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUNetConfig, parseVaeConfig } from '../config';
import { NodeFileSource } from '../safetensors/node-source';
import { SafetensorsFile } from '../safetensors/reader';
import { encodeSafetensors, type TensorToWrite } from '../safetensors/writer';
import { readMapped, type Component } from './mapping';
import { componentMappings, detectSingleFileKind, folderMappings, planSingleFile } from './single-file';
import { diffusersToSgmUNetName } from './unet-sgm';

const unetConfig = parseUNetConfig(JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')));
const vaeConfig = parseVaeConfig(JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')));
const FOLDER: Record<Component, string> = {
  unet: 'golden/models/unet/diffusion_pytorch_model.safetensors',
  vae: 'golden/models/vae/diffusion_pytorch_model.safetensors',
  text_encoder: 'golden/models/text_encoder/model.safetensors',
  text_encoder_2: 'golden/models/text_encoder_2/model.safetensors',
};

type Tensors = Map<string, { shape: number[]; data: Float32Array }>;
function load(path: string): Tensors {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[]; data_offsets: [number, number] }>;
  const out: Tensors = new Map();
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const bytes = buf.buffer.slice(buf.byteOffset + 8 + n + v.data_offsets[0], buf.byteOffset + 8 + n + v.data_offsets[1]);
    out.set(k, { shape: v.shape, data: new Float32Array(bytes) });
  }
  return out;
}

/** diffusers VAE -> LDM, written from convert_ldm_vae_checkpoint in reverse (independent of vae-ldm.ts). */
function vaeToLdm(name: string, shape: number[]): [string, number[]] {
  const attn = /^(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(weight|bias)$/.exec(name);
  if (attn) {
    const short = { group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' }[attn[2]!];
    const conv = attn[3] === 'weight' && attn[2] !== 'group_norm';
    return [`${attn[1]}.mid.attn_1.${short}.${attn[3]}`, conv ? [...shape, 1, 1] : shape];
  }
  const s = name
    .replace(/mid_block\.resnets\.(\d)/, (_, i: string) => `mid.block_${+i + 1}`)
    .replace(/^encoder\.down_blocks\.(\d)\.resnets\./, 'encoder.down.$1.block.')
    .replace(/^encoder\.down_blocks\.(\d)\.downsamplers\.0\./, 'encoder.down.$1.downsample.')
    .replace(/^decoder\.up_blocks\.(\d)\.resnets\./, (_, i: string) => `decoder.up.${3 - +i}.block.`)
    .replace(/^decoder\.up_blocks\.(\d)\.upsamplers\.0\./, (_, i: string) => `decoder.up.${3 - +i}.upsample.`)
    .replace('conv_shortcut', 'nin_shortcut')
    .replace('conv_norm_out', 'norm_out');
  return [s, shape];
}

/** An SDXL single-file checkpoint assembled from the golden diffusers folder, with SGM/open_clip names. */
function buildSgmCheckpoint(opts: { dropUNet?: string } = {}): Uint8Array {
  const out: TensorToWrite[] = [];
  const add = (name: string, shape: number[], data: Float32Array) => out.push({ name, dtype: 'F32', shape, data });
  for (const [k, t] of load(FOLDER.unet)) if (k !== opts.dropUNet) add(`model.diffusion_model.${diffusersToSgmUNetName(k, unetConfig)}`, t.shape, t.data);
  for (const [k, t] of load(FOLDER.vae)) add(`first_stage_model.${vaeToLdm(k, t.shape)[0]}`, vaeToLdm(k, t.shape)[1], t.data);
  for (const [k, t] of load(FOLDER.text_encoder)) add(`conditioner.embedders.0.transformer.${k}`, t.shape, t.data);
  add('conditioner.embedders.0.transformer.text_model.embeddings.position_ids', [1, 77], new Float32Array(77));
  const te2 = load(FOLDER.text_encoder_2);
  const g = 'conditioner.embedders.1.model.';
  for (const [k, t] of te2) {
    let m = /^text_model\.encoder\.layers\.(\d+)\.(.*)$/.exec(k);
    if (m) {
      const l = `${g}transformer.resblocks.${m[1]}.`;
      const qkv = /^self_attn\.q_proj\.(weight|bias)$/.exec(m[2]!);
      if (qkv) {
        const parts = ['q_proj', 'k_proj', 'v_proj'].map((p) => te2.get(`text_model.encoder.layers.${m![1]}.self_attn.${p}.${qkv[1]}`)!.data);
        const fused = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
        parts.forEach((p, i) => fused.set(p, i * p.length));
        add(`${l}attn.in_proj_${qkv[1]}`, [3 * t.shape[0]!, ...t.shape.slice(1)], fused);
      } else if (!/self_attn\.[kv]_proj/.test(m[2]!)) {
        const renamed = m[2]!.replace('layer_norm1', 'ln_1').replace('layer_norm2', 'ln_2').replace('mlp.fc1', 'mlp.c_fc')
          .replace('mlp.fc2', 'mlp.c_proj').replace('self_attn.out_proj', 'attn.out_proj');
        add(l + renamed, t.shape, t.data);
      }
      continue;
    }
    m = /^text_projection\.weight$/.exec(k);
    if (m) {
      const [r, c] = t.shape as [number, number];
      const tr = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) tr[j * r + i] = t.data[i * c + j]!;
      add(`${g}text_projection`, [c, r], tr);
      continue;
    }
    const top: Record<string, string> = {
      'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
      'text_model.embeddings.position_embedding.weight': 'positional_embedding',
      'text_model.final_layer_norm.weight': 'ln_final.weight',
      'text_model.final_layer_norm.bias': 'ln_final.bias',
    };
    add(g + top[k]!, t.shape, t.data);
  }
  add(`${g}logit_scale`, [], Float32Array.of(4.6));
  return encodeSafetensors(out, { format: 'pt' });
}

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
    // The default for an SDXL file is the real SDXL base config: the tiny UNet is the wrong model.
    expect(() => planSingleFile(ckpt)).toThrow(expect.objectContaining({ code: 'wrong-model', file: 'tiny_sdxl.safetensors' }));
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
