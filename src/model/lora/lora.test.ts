import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUNetConfig, SD15_UNET_CONFIG, SDXL_BASE_UNET_CONFIG } from '../config';
import { ModelFileError } from '../errors';
import { NodeFileSource } from '../safetensors/node-source';
import { SafetensorsFile } from '../safetensors/reader';
import { MemorySource } from '../safetensors/source';
import { encodeSafetensors, type TensorToWrite } from '../safetensors/writer';
import { kohyaUNetTable, parseLoraKey } from './keys';
import { indexLora, loadLora, loraDelta, type LoraLayer } from './lora';

const unet = parseUNetConfig(JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')));
const FORMATS = ['lora_peft', 'lora_diffusers_legacy', 'lora_kohya', 'lora_kohya_alpha2'] as const;
const opened: SafetensorsFile[] = [];
async function open(name: string): Promise<SafetensorsFile> {
  const f = await SafetensorsFile.open(await NodeFileSource.open(`golden/lora/${name}.safetensors`));
  opened.push(f);
  return f;
}
afterAll(async () => {
  for (const f of opened) await f.close();
});

function fixture(name: string, keys: [string, number[]][]): Promise<SafetensorsFile> {
  const tensors: TensorToWrite[] = keys.map(([k, shape]) => ({ name: k, dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) }));
  return SafetensorsFile.open(new MemorySource(encodeSafetensors(tensors), name));
}

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function rejects(p: Promise<unknown> | (() => unknown), code: string, key?: string): Promise<ModelFileError> {
  const e = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ModelFileError);
  expect((e as ModelFileError).code).toBe(code);
  if (key !== undefined) expect((e as ModelFileError).tensor).toBe(key);
  return e as ModelFileError;
}

describe('the four golden LoRA files', () => {
  it('parse to the same 224 targets: every q/k/v/out of every attn1/attn2 of the golden UNet', async () => {
    const expectedTargets: string[] = [];
    const blocks = [
      ['down_blocks.1', 2, 2], ['down_blocks.2', 2, 3], ['mid_block', 1, 3], ['up_blocks.0', 3, 3], ['up_blocks.1', 3, 2],
    ] as const;
    for (const [b, attns, depth] of blocks) {
      for (let a = 0; a < attns; a++) for (let t = 0; t < depth; t++) for (const at of ['attn1', 'attn2']) for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) {
        expectedTargets.push(`${b}.attentions.${a}.transformer_blocks.${t}.${at}.${p}`);
      }
    }
    expect(expectedTargets).toHaveLength(224);
    for (const name of FORMATS) {
      const idx = indexLora(await open(name), unet);
      expect(idx.format).toBe({ lora_peft: 'peft', lora_diffusers_legacy: 'diffusers-legacy', lora_kohya: 'kohya', lora_kohya_alpha2: 'kohya' }[name]);
      expect(idx.layers.map((l) => l.target).sort()).toEqual([...expectedTargets].sort());
      expect(idx.layers.every((l) => l.component === 'unet' && l.rank === 4)).toBe(true);
      expect(idx.ignored).toEqual([]);
    }
  });

  it('have the documented shapes and scales (alpha/r = 1, 1, 1, 0.5)', async () => {
    const scales: number[][] = [];
    for (const name of FORMATS) {
      const { layers } = await loadLora(await open(name), unet);
      scales.push([...new Set(layers.map((l) => l.scale))]);
      const k = layers.find((l) => l.target === 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k')!;
      expect([k.rank, k.inFeatures, k.outFeatures, k.down.length, k.up.length]).toEqual([4, 80, 32, 4 * 80, 32 * 4]);
      expect(k.alpha).toBe(name === 'lora_kohya' ? 4 : name === 'lora_kohya_alpha2' ? 2 : undefined);
    }
    expect(scales).toEqual([[1], [1], [1], [0.5]]);
  });

  it('give equal effective deltas: peft = legacy = kohya, and kohya_alpha2 = 0.5 × peft', async () => {
    const byTarget = async (name: string) => new Map((await loadLora(await open(name), unet)).layers.map((l) => [l.target, l] as [string, LoraLayer]));
    const [peft, legacy, kohya, half] = await Promise.all(FORMATS.map(byTarget));
    let maxAbs = 0;
    for (const [target, p] of peft!) {
      const d = loraDelta(p);
      expect(d.length).toBe(p.outFeatures * p.inFeatures);
      expect(same(loraDelta(legacy!.get(target)!), d), target).toBe(true);
      expect(same(loraDelta(kohya!.get(target)!), d), target).toBe(true);
      const h = loraDelta(half!.get(target)!);
      for (let i = 0; i < d.length; i++) maxAbs = Math.max(maxAbs, Math.abs(h[i]! - 0.5 * d[i]!));
      // strength 0.5 == alpha 2 (golden/README.md: == lora_kohya with cross_attention_kwargs scale 0.5)
      expect(same(loraDelta(p, 0.5), h), target).toBe(true);
    }
    expect(maxAbs).toBe(0);
    // The delta is B·A, checked by hand for one entry of one layer.
    const l = peft!.get('mid_block.attentions.0.transformer_blocks.2.attn1.to_out.0')!;
    let e = 0;
    for (let k = 0; k < l.rank; k++) e += l.up[5 * l.rank + k]! * l.down[k * l.inFeatures + 7]!;
    expect(loraDelta(l)[5 * l.inFeatures + 7]).toBeCloseTo(e, 6);
  });
});

describe('LoRA key grammars', () => {
  const table = kohyaUNetTable(unet);
  it('maps kohya SGM and diffusers-style UNet names, text encoders and the attention-processor form', () => {
    expect(parseLoraKey('lora_unet_output_blocks_0_1_transformer_blocks_2_attn2_to_out_0.lora_up.weight', table)).toEqual({
      format: 'kohya', component: 'unet', module: 'up_blocks.0.attentions.0.transformer_blocks.2.attn2.to_out.0', role: 'up',
    });
    expect(parseLoraKey('lora_unet_down_blocks_1_attentions_1_proj_in.alpha', table)?.module).toBe('down_blocks.1.attentions.1.proj_in');
    expect(parseLoraKey('lora_unet_input_blocks_1_0_in_layers_2.lora_down.weight', table)?.module).toBe('down_blocks.0.resnets.0.conv1');
    expect(parseLoraKey('lora_te2_text_model_encoder_layers_3_mlp_fc1.lora_down.weight', table)).toMatchObject({ component: 'text_encoder_2', module: 'text_model.encoder.layers.3.mlp.fc1' });
    expect(parseLoraKey('lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha', table)).toMatchObject({ component: 'text_encoder', role: 'alpha' });
    expect(parseLoraKey('down_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.down.weight', table)).toEqual({
      format: 'diffusers-legacy', component: 'unet', module: 'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0', role: 'down',
    });
    expect(parseLoraKey('text_encoder.text_model.encoder.layers.0.self_attn.k_proj.lora_linear_layer.up.weight', table)).toMatchObject({ component: 'text_encoder', role: 'up' });
    expect(parseLoraKey('emb_params', table)).toBeUndefined();
    // The kohya table is unambiguous for the real models too.
    expect(kohyaUNetTable(SDXL_BASE_UNET_CONFIG).size).toBeGreaterThan(1000);
    expect(kohyaUNetTable(SD15_UNET_CONFIG).size).toBeGreaterThan(500);
  });

  it('reads a conv (LoCon) layer, an alpha in a peft file, and ignores non-LoRA tensors', async () => {
    const f = await fixture('locon.safetensors', [
      ['lora_unet_input_blocks_1_0_in_layers_2.lora_down.weight', [2, 16, 3, 3]],
      ['lora_unet_input_blocks_1_0_in_layers_2.lora_up.weight', [16, 2, 1, 1]],
      ['lora_unet_input_blocks_1_0_in_layers_2.alpha', []],
      ['unet.conv_in.lora_A.weight', [3, 4, 3, 3]],
      ['unet.conv_in.lora_B.weight', [16, 3, 1, 1]],
      ['emb_params', [2, 80]],
    ]);
    const { index, layers } = await loadLora(f, unet);
    expect(index.ignored).toEqual(['emb_params']);
    const conv = layers.find((l) => l.target === 'down_blocks.0.resnets.0.conv1')!;
    expect([conv.rank, conv.inFeatures, conv.outFeatures, conv.alpha, conv.scale]).toEqual([2, 144, 16, 0.5, 0.25]);
    expect(loraDelta(conv)[0]).toBeCloseTo(0.25 * 2 * 0.25, 6);
  });

  it('refuses unpaired, ambiguous, foreign and unsupported layers with named errors', async () => {
    const q = 'unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q';
    await rejects(fixture('half.safetensors', [[`${q}.lora_A.weight`, [4, 32]]]).then((f) => indexLora(f, unet)), 'bad-lora', `${q}.lora_A.weight`);
    await rejects(fixture('twice.safetensors', [[`${q}.lora_A.weight`, [4, 32]], [`${q}.lora.down.weight`, [4, 32]], [`${q}.lora_B.weight`, [32, 4]]]).then((f) => indexLora(f, unet)), 'bad-lora');
    await rejects(fixture('rank.safetensors', [[`${q}.lora_A.weight`, [4, 32]], [`${q}.lora_B.weight`, [32, 2]]]).then((f) => indexLora(f, unet)), 'bad-lora');
    // An SDXL-size LoRA on the tiny UNet: the sizes do not match.
    const e = await rejects(fixture('big.safetensors', [[`${q}.lora_A.weight`, [4, 640]], [`${q}.lora_B.weight`, [640, 4]]]).then((f) => indexLora(f, unet)), 'wrong-model');
    expect(e.message).toContain('big.safetensors');
    // An SD-1.5 kohya name (down_blocks.0 has attention there) on SDXL, where down_blocks.0 has none.
    await rejects(
      fixture('sd15.safetensors', [['lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', [4, 320]]]).then((f) => indexLora(f, SDXL_BASE_UNET_CONFIG)),
      'wrong-model',
      'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight',
    );
    await rejects(fixture('loha.safetensors', [['lora_unet_input_blocks_4_1_proj_in.hada_w1_a', [4, 32]]]).then((f) => indexLora(f, unet)), 'bad-lora');
    await rejects(fixture('empty.safetensors', [['emb_params', [2, 80]]]).then((f) => indexLora(f, unet)), 'bad-lora');
  });
});
