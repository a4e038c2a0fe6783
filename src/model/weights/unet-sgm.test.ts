import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseUNetConfig, SD15_UNET_CONFIG, SDXL_BASE_UNET_CONFIG, type UNetConfig } from '../config';
import { ModelFileError } from '../errors';
import { checkAgainstSpecs, countParams, unetTensorSpecs } from './unet-diffusers';
import { diffusersToSgmUNetName, SGM_UNET_PREFIX, sgmUNetNameMap } from './unet-sgm';

const config = parseUNetConfig(JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')));

function goldenHeader(path: string): Record<string, { shape: number[] }> {
  const buf = readFileSync(path);
  const h = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape: number[] }>;
  delete h.__metadata__;
  return h;
}
const golden = goldenHeader('golden/models/unet/diffusion_pytorch_model.safetensors');

/**
 * An independent LDM -> diffusers parser, written the way diffusers' convert_ldm_unet_checkpoint
 * reads a file: block = (i - 1) // (L + 1) on the input side, i // (L + 1) on the output side, and an
 * output block's `conv.{weight,bias}` child (at .1 or .2) is that level's upsampler.
 */
function ldmToDiffusers(name: string, L: number): string {
  const res = (s: string) =>
    s.replace(/^in_layers\.0/, 'norm1').replace(/^in_layers\.2/, 'conv1').replace(/^emb_layers\.1/, 'time_emb_proj')
      .replace(/^out_layers\.0/, 'norm2').replace(/^out_layers\.3/, 'conv2').replace(/^skip_connection/, 'conv_shortcut');
  const fixed: Record<string, string> = {
    'input_blocks.0.0': 'conv_in', 'time_embed.0': 'time_embedding.linear_1', 'time_embed.2': 'time_embedding.linear_2',
    'label_emb.0.0': 'add_embedding.linear_1', 'label_emb.0.2': 'add_embedding.linear_2', 'out.0': 'conv_norm_out', 'out.2': 'conv_out',
  };
  const f = /^(.*)\.(weight|bias)$/.exec(name)!;
  if (fixed[f[1]!]) return `${fixed[f[1]!]}.${f[2]}`;
  let m = /^input_blocks\.(\d+)\.(\d)\.(.*)$/.exec(name);
  if (m) {
    const i = +m[1]! - 1;
    const [b, l] = [Math.floor(i / (L + 1)), i % (L + 1)];
    if (m[3]!.startsWith('op.')) return `down_blocks.${b}.downsamplers.0.conv.${m[3]!.slice(3)}`;
    return m[2] === '0' ? `down_blocks.${b}.resnets.${l}.${res(m[3]!)}` : `down_blocks.${b}.attentions.${l}.${m[3]}`;
  }
  m = /^middle_block\.(\d)\.(.*)$/.exec(name);
  if (m) return m[1] === '1' ? `mid_block.attentions.0.${m[2]}` : `mid_block.resnets.${+m[1]! / 2}.${res(m[2]!)}`;
  m = /^output_blocks\.(\d+)\.(\d)\.(.*)$/.exec(name)!;
  const i = +m[1]!;
  const [b, l] = [Math.floor(i / (L + 1)), i % (L + 1)];
  if (/^conv\.(weight|bias)$/.test(m[3]!)) return `up_blocks.${b}.upsamplers.0.${m[3]}`;
  return m[2] === '0' ? `up_blocks.${b}.resnets.${l}.${res(m[3]!)}` : `up_blocks.${b}.attentions.${l}.${m[3]}`;
}

function roundTrip(c: UNetConfig): { names: string[]; sgm: string[] } {
  const names = unetTensorSpecs(c).map((s) => s.name);
  const { toSource, toDiffusers } = sgmUNetNameMap(c);
  const sgm = names.map((n) => toSource.get(n)!);
  expect(new Set(sgm).size).toBe(names.length); // injective
  for (const s of sgm) {
    expect(s.startsWith(SGM_UNET_PREFIX)).toBe(true);
    expect(ldmToDiffusers(s.slice(SGM_UNET_PREFIX.length), c.layersPerBlock[0]!)).toBe(toDiffusers.get(s));
  }
  expect(sgm.map((s) => toDiffusers.get(s))).toEqual(names);
  return { names, sgm };
}

describe('diffusers UNet tensors from the config', () => {
  it('are exactly the golden file: every name and shape, nothing more', () => {
    const specs = unetTensorSpecs(config);
    expect(specs.map((s) => s.name).sort()).toEqual(Object.keys(golden).sort());
    for (const s of specs) expect(s.shape).toEqual(golden[s.name]!.shape);
    expect(countParams(specs)).toBe(1_791_492); // golden/README.md
  });

  it('match the real SDXL base (2.567 B params, 1680 tensors) and SD-1.5 (859.5 M, 686) UNets', () => {
    expect(countParams(unetTensorSpecs(SDXL_BASE_UNET_CONFIG))).toBe(2_567_463_684);
    expect(unetTensorSpecs(SDXL_BASE_UNET_CONFIG)).toHaveLength(1680);
    expect(countParams(unetTensorSpecs(SD15_UNET_CONFIG))).toBe(859_520_964);
    expect(unetTensorSpecs(SD15_UNET_CONFIG)).toHaveLength(686);
    const sd15 = new Map(unetTensorSpecs(SD15_UNET_CONFIG).map((s) => [s.name, s.shape]));
    expect(sd15.get('down_blocks.0.attentions.0.proj_in.weight')).toEqual([320, 320, 1, 1]); // conv proj (no linear projection)
    expect(sd15.get('up_blocks.3.resnets.0.conv1.weight')).toEqual([320, 960, 3, 3]); // 640 from below + a 320 skip
    expect(sd15.get('up_blocks.3.resnets.2.conv_shortcut.weight')).toEqual([320, 640, 1, 1]);
  });

  it('checkAgainstSpecs names the missing or mis-shaped tensor', () => {
    const specs = unetTensorSpecs(config);
    const lookup = (drop: string, wrong?: string) => (n: string) =>
      n === drop ? undefined : { shape: n === wrong ? [1] : golden[n]!.shape };
    expect(() => checkAgainstSpecs('u.safetensors', specs, lookup(''))).not.toThrow();
    expect(() => checkAgainstSpecs('u.safetensors', specs, lookup('conv_out.bias'))).toThrow(
      expect.objectContaining({ code: 'missing-tensor', tensor: 'conv_out.bias', file: 'u.safetensors' }),
    );
    expect(() => checkAgainstSpecs('u.safetensors', specs, lookup('', 'conv_in.weight'))).toThrow(
      expect.objectContaining({ code: 'wrong-model', tensor: 'conv_in.weight' }),
    );
    const err = (() => {
      try {
        checkAgainstSpecs('vae.safetensors', specs, () => undefined);
      } catch (e) {
        return e as ModelFileError;
      }
    })();
    expect(err?.code).toBe('wrong-model');
  });
});

describe('UNet name map: diffusers <-> single-file (LDM / SGM)', () => {
  it('is a bijection over every golden tensor, agreeing with an independent LDM parser', () => {
    const { names } = roundTrip(config);
    expect(names).toHaveLength(840);
  });

  it('is a bijection for the real SDXL and SD-1.5 structures too', () => {
    roundTrip(SDXL_BASE_UNET_CONFIG);
    roundTrip(SD15_UNET_CONFIG);
  });

  it('gives the names real checkpoints use', () => {
    const x = (n: string) => diffusersToSgmUNetName(n, SDXL_BASE_UNET_CONFIG);
    // sd_xl_base_1.0.safetensors key names (without model.diffusion_model.)
    expect(x('down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k.weight')).toBe('input_blocks.4.1.transformer_blocks.0.attn1.to_k.weight');
    expect(x('down_blocks.0.downsamplers.0.conv.weight')).toBe('input_blocks.3.0.op.weight');
    expect(x('down_blocks.1.downsamplers.0.conv.bias')).toBe('input_blocks.6.0.op.bias');
    expect(x('down_blocks.2.resnets.1.conv2.weight')).toBe('input_blocks.8.0.out_layers.3.weight');
    expect(x('mid_block.attentions.0.transformer_blocks.9.ff.net.2.weight')).toBe('middle_block.1.transformer_blocks.9.ff.net.2.weight');
    expect(x('mid_block.resnets.1.time_emb_proj.bias')).toBe('middle_block.2.emb_layers.1.bias');
    expect(x('up_blocks.0.upsamplers.0.conv.weight')).toBe('output_blocks.2.2.conv.weight');
    expect(x('up_blocks.1.upsamplers.0.conv.weight')).toBe('output_blocks.5.2.conv.weight');
    expect(x('up_blocks.2.resnets.2.conv_shortcut.weight')).toBe('output_blocks.8.0.skip_connection.weight');
    expect(x('add_embedding.linear_2.bias')).toBe('label_emb.0.2.bias');
    expect(x('conv_norm_out.weight')).toBe('out.0.weight');
    const s = (n: string) => diffusersToSgmUNetName(n, SD15_UNET_CONFIG);
    // v1-5-pruned.safetensors key names
    expect(s('up_blocks.0.upsamplers.0.conv.weight')).toBe('output_blocks.2.1.conv.weight'); // UpBlock2D: no transformer
    expect(s('up_blocks.2.upsamplers.0.conv.bias')).toBe('output_blocks.8.2.conv.bias');
    expect(s('down_blocks.3.resnets.1.norm1.weight')).toBe('input_blocks.11.0.in_layers.0.weight');
    expect(s('up_blocks.3.attentions.2.proj_out.weight')).toBe('output_blocks.11.1.proj_out.weight');
    expect(s('time_embedding.linear_2.weight')).toBe('time_embed.2.weight');
  });
});
