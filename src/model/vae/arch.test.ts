import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVaeConfig, SDXL_VAE_CONFIG } from '../config';
import type { SafetensorsFile } from '../safetensors/reader';
import { encodeSafetensors, type TensorToWrite } from '../safetensors/writer';
import { readMapped, type WeightMapping } from '../weights/mapping';
import { diffusersToLdmVaeName, LDM_VAE_PREFIX, ldmVaeShape, vaeTensorSpecs } from '../weights/vae-ldm';
import { vaeArch, vaeWeightShapes } from './arch';
import { GOLDEN_VAE, openFile, toLegacyName, writeLegacyVae } from './legacy-file.fixture';
import { resolveVaeMappings } from './load';
import { planVaeRun } from './plan';

const tiny = parseVaeConfig(JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')));
const numelOf = (shapes: Map<string, number[]>) => [...shapes.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);

describe('VAE architecture', () => {
  it('follows diffusers Encoder/Decoder for the tiny golden config', () => {
    const a = vaeArch(tiny);
    expect(a.factor).toBe(8);
    expect(a.eps).toBe(1e-6);
    expect(a.groups).toBe(8);
    expect(a.encoder.down.map((b) => b.resnets.map((r) => [r.cin, r.cout]))).toEqual([
      [[16, 16], [16, 16]], [[16, 32], [32, 32]], [[32, 64], [64, 64]], [[64, 64], [64, 64]],
    ]);
    expect(a.encoder.down.map((b) => b.downsample !== null)).toEqual([true, true, true, false]);
    // up blocks: reversed channels, layers_per_block + 1 resnets, the first one takes the previous block's channels
    expect(a.decoder.up.map((b) => b.resnets.map((r) => `${r.cin}>${r.cout}${r.shortcut ? 's' : ''}`))).toEqual([
      ['64>64', '64>64', '64>64'], ['64>64', '64>64', '64>64'], ['64>32s', '32>32', '32>32'], ['32>16s', '16>16', '16>16'],
    ]);
    expect(a.decoder.up.map((b) => b.upsample)).toEqual([
      'decoder.up_blocks.0.upsamplers.0.conv', 'decoder.up_blocks.1.upsamplers.0.conv', 'decoder.up_blocks.2.upsamplers.0.conv', null,
    ]);
    expect(a.decoder.mid.attention).toBe('decoder.mid_block.attentions.0');
  });

  it('the forward reads exactly the tensors of the golden file, and each half only its own', async () => {
    const file = await openFile(GOLDEN_VAE);
    const names = new Set(file.names());
    await file.close();
    const all = vaeWeightShapes(tiny);
    expect(all.size).toBe(248);
    expect(new Set(all.keys())).toEqual(names);
    expect(numelOf(all)).toBe(1_321_207); // golden/README.md: 248 tensors, 1,321,207 params
    const dec = await planVaeRun(tiny, 'decode', 1, 8, 12, 'f32');
    const enc = await planVaeRun(tiny, 'encode', 1, 8, 12, 'f32');
    expect(dec.used).toEqual(new Set(vaeWeightShapes(tiny, ['decoder']).keys()));
    expect(enc.used).toEqual(new Set(vaeWeightShapes(tiny, ['encoder']).keys()));
    expect(dec.used.size + enc.used.size).toBe(248);
  });

  it('has the SDXL VAE parameter counts (decoder alone ≈ 59% of the weights)', () => {
    const dec = numelOf(vaeWeightShapes(SDXL_VAE_CONFIG, ['decoder']));
    const enc = numelOf(vaeWeightShapes(SDXL_VAE_CONFIG, ['encoder']));
    // AutoencoderKL(block_out_channels=[128, 256, 512, 512]) has 83,653,863 parameters
    expect(dec + enc).toBe(83_653_863);
    expect(dec / (dec + enc)).toBeCloseTo(0.59, 2);
  });
});

describe('VAE weight mapping', () => {
  const open: SafetensorsFile[] = [];
  afterAll(async () => {
    for (const f of open) await f.close();
  });

  it('maps query/key/value/proj_attn and 1×1-conv projections onto the current names', async () => {
    const file = await openFile(await writeLegacyVae());
    open.push(file);
    const golden = await openFile(GOLDEN_VAE);
    open.push(golden);
    const maps = resolveVaeMappings(file, tiny, ['encoder', 'decoder']);
    expect(maps.map((m) => m.target).sort()).toEqual(golden.names().sort());
    const reshaped = maps.filter((m) => m.transform?.kind === 'reshape');
    expect(reshaped.map((m) => m.source).sort()).toEqual(
      ['encoder', 'decoder'].flatMap((p) => ['key', 'proj_attn', 'query', 'value'].map((n) => `${p}.mid_block.attentions.0.${n}.weight`)).sort(),
    );
    for (const m of maps) {
      expect(m.source).toBe(toLegacyName(m.target));
      const got = await readMapped(file, m, 'f32');
      expect(got.shape).toEqual(vaeWeightShapes(tiny).get(m.target));
      const want = await golden.read(m.target, 'f32');
      expect(got.data.length).toBe(want.length);
      expect(got.data.every((v, i) => v === want[i]), m.target).toBe(true);
    }
    // in file order (ascending offsets), for streaming sources
    const order = file.names();
    expect(maps.map((m) => order.indexOf(m.source))).toEqual([...maps.map((m) => order.indexOf(m.source))].sort((a, b) => a - b));
  });

  it('legacy names stored as [C, C] need no reshape', async () => {
    const file = await openFile(await writeLegacyVae({ conv1x1: false }));
    open.push(file);
    const maps = resolveVaeMappings(file, tiny, ['decoder']);
    expect(maps.some((m) => m.transform)).toBe(false);
    expect(maps.find((m) => m.target === 'decoder.mid_block.attentions.0.to_out.0.weight')?.source).toBe('decoder.mid_block.attentions.0.proj_attn.weight');
  });

  it('a decoder-only file serves the decoder and fails the encoder by name', async () => {
    const file = await openFile(await writeLegacyVae({ keep: (n) => n.startsWith('decoder.') || n.startsWith('post_quant_conv.') }));
    open.push(file);
    expect(resolveVaeMappings(file, tiny, ['decoder'])).toHaveLength(vaeWeightShapes(tiny, ['decoder']).size);
    expect(() => resolveVaeMappings(file, tiny, ['encoder'])).toThrow(expect.objectContaining({ code: 'wrong-model' })); // none of them
    expect(() => resolveVaeMappings(file, tiny, ['encoder', 'decoder'])).toThrow(expect.objectContaining({ code: 'missing-tensor', tensor: 'encoder.conv_in.weight' }));
  });

  it('takes explicit mappings (a single-file checkpoint\'s first_stage_model.* names)', async () => {
    const golden = await openFile(GOLDEN_VAE);
    open.push(golden);
    const tensors: TensorToWrite[] = [];
    for (const t of golden.tensors) {
      const shape = ldmVaeShape(t.name, t.shape);
      tensors.push({ name: LDM_VAE_PREFIX + diffusersToLdmVaeName(t.name, tiny), dtype: 'F32', shape, data: await golden.read(t.name, 'f32') });
    }
    const path = join(mkdtempSync(join(tmpdir(), 'cidm-vae-')), 'ldm_vae.safetensors');
    writeFileSync(path, encodeSafetensors(tensors));
    const file = await openFile(path);
    open.push(file);
    const given: WeightMapping[] = vaeTensorSpecs(tiny).map(({ name, shape }) => {
      const source = LDM_VAE_PREFIX + diffusersToLdmVaeName(name, tiny);
      return file.info(source).shape.length !== shape.length ? { component: 'vae', target: name, source, transform: { kind: 'reshape', shape } } : { component: 'vae', target: name, source };
    });
    const maps = resolveVaeMappings(file, tiny, ['decoder'], given);
    expect(maps).toHaveLength(vaeWeightShapes(tiny, ['decoder']).size);
    const q = maps.find((m) => m.target === 'decoder.mid_block.attentions.0.to_q.weight')!;
    expect(q.source).toBe('first_stage_model.decoder.mid.attn_1.q.weight');
    expect((await readMapped(file, q, 'f32')).data).toEqual(await golden.read(q.target, 'f32'));
    expect(() => resolveVaeMappings(file, tiny, ['decoder'], given.slice(1).filter((m) => m.target !== 'decoder.conv_in.bias'))).toThrow(
      expect.objectContaining({ code: 'missing-tensor', tensor: 'decoder.conv_in.bias' }),
    );
  });

  it('rejects a wrong shape before reading anything', async () => {
    const file = await openFile(GOLDEN_VAE);
    open.push(file);
    const wide = parseVaeConfig({ block_out_channels: [16, 32, 64, 128], norm_num_groups: 8, layers_per_block: 2 });
    expect(() => resolveVaeMappings(file, wide, ['decoder'])).toThrow(expect.objectContaining({ code: 'wrong-model', file: 'diffusion_pytorch_model.safetensors' }));
    expect(() => resolveVaeMappings(file, SDXL_VAE_CONFIG, ['decoder'])).toThrow(expect.objectContaining({ code: 'wrong-model' }));
  });
});
