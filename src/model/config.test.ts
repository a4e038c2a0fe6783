import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { headDim, parseUNetConfig, parseVaeConfig, SD15_UNET_CONFIG, SDXL_BASE_UNET_CONFIG, SDXL_BASE_UNET_CONFIG_JSON, SDXL_VAE_CONFIG } from './config';
import { ModelFileError } from './errors';

const goldenJson = JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as Record<string, unknown>;

function configError(json: unknown): ModelFileError {
  try {
    parseUNetConfig(json, 'my/config.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    expect((e as ModelFileError).code).toBe('bad-config');
    expect((e as ModelFileError).message).toContain('my/config.json');
    return e as ModelFileError;
  }
  throw new Error('expected a bad-config error');
}

describe('parseUNetConfig', () => {
  it('reads the golden tiny-SDXL config', () => {
    const c = parseUNetConfig(goldenJson);
    expect(c).toMatchObject({
      sampleSize: 32,
      inChannels: 4,
      outChannels: 4,
      flipSinToCos: true,
      freqShift: 0,
      blockOutChannels: [16, 32, 48],
      downBlockTypes: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
      upBlockTypes: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
      layersPerBlock: [2, 2, 2],
      transformerLayersPerBlock: [1, 2, 3],
      upTransformerLayersPerBlock: [3, 2, 1],
      numAttentionHeads: [1, 2, 3], // attention_head_dim is the head count (golden/README.md)
      crossAttentionDim: [80, 80, 80],
      additionEmbedType: 'text_time',
      additionTimeEmbedDim: 16,
      projectionClassEmbeddingsInputDim: 128,
      timeEmbedDim: 64,
      useLinearProjection: true,
      upcastAttention: false,
      normNumGroups: 8,
      normEps: 1e-5,
    });
    expect([0, 1, 2].map((b) => headDim(c, b))).toEqual([16, 16, 16]);
  });

  it('holds the real SDXL base and SD-1.5 configs', () => {
    const x = SDXL_BASE_UNET_CONFIG;
    expect(x.blockOutChannels).toEqual([320, 640, 1280]);
    expect(x.numAttentionHeads).toEqual([5, 10, 20]);
    expect([0, 1, 2].map((b) => headDim(x, b))).toEqual([64, 64, 64]);
    expect(x.transformerLayersPerBlock).toEqual([1, 2, 10]);
    expect(x.upTransformerLayersPerBlock).toEqual([10, 2, 1]);
    expect([x.crossAttentionDim[0], x.additionTimeEmbedDim, x.projectionClassEmbeddingsInputDim, x.timeEmbedDim]).toEqual([2048, 256, 2816, 1280]);
    // 2816 = 1280 pooled text embeds + 6 micro-conditioning ids × 256.
    expect(x.projectionClassEmbeddingsInputDim).toBe(1280 + 6 * x.additionTimeEmbedDim!);
    const s = SD15_UNET_CONFIG;
    expect(s.blockOutChannels).toEqual([320, 640, 1280, 1280]);
    expect(s.numAttentionHeads).toEqual([8, 8, 8, 8]); // attention_head_dim: 8, an int for all blocks
    expect([0, 1, 2, 3].map((b) => headDim(s, b))).toEqual([40, 80, 160, 160]);
    expect(s.transformerLayersPerBlock).toEqual([1, 1, 1, 1]);
    expect([s.additionEmbedType, s.useLinearProjection, s.crossAttentionDim[0], s.sampleSize]).toEqual([null, false, 768, 64]);
  });

  it('prefers num_attention_heads over attention_head_dim and accepts ints or lists', () => {
    const c = parseUNetConfig({ ...SDXL_BASE_UNET_CONFIG_JSON, num_attention_heads: [10, 20, 20], attention_head_dim: 64, transformer_layers_per_block: 2 });
    expect(c.numAttentionHeads).toEqual([10, 20, 20]);
    expect(c.transformerLayersPerBlock).toEqual([2, 2, 2]);
    const r = parseUNetConfig({ ...goldenJson, reverse_transformer_layers_per_block: [4, 5, 6] });
    expect(r.upTransformerLayersPerBlock).toEqual([4, 5, 6]);
  });

  it('refuses malformed and unsupported configs, naming the field', () => {
    expect(configError('x').message).toContain('not a JSON object');
    expect(configError({ ...goldenJson, block_out_channels: 'wide' }).tensor).toBe('block_out_channels');
    expect(configError({ ...goldenJson, down_block_types: ['DownBlock2D', 'SimpleCrossAttnDownBlock2D', 'CrossAttnDownBlock2D'] }).tensor).toBe('down_block_types');
    expect(configError({ ...goldenJson, up_block_types: ['UpBlock2D'] }).tensor).toBe('up_block_types');
    expect(configError({ ...goldenJson, attention_head_dim: [1, 2, 5] }).message).toContain('48 channels do not split into 5 heads');
    expect(configError({ ...goldenJson, transformer_layers_per_block: [1, 2] }).tensor).toBe('transformer_layers_per_block');
    expect(configError({ ...goldenJson, class_embed_type: 'timestep' }).tensor).toBe('class_embed_type');
    expect(configError({ ...goldenJson, addition_embed_type: 'image' }).tensor).toBe('addition_embed_type');
    expect(configError({ ...goldenJson, mid_block_type: null }).tensor).toBe('mid_block_type');
    expect(configError({ ...goldenJson, _class_name: 'UNet2DModel' }).tensor).toBe('_class_name');
    expect(configError({ ...goldenJson, addition_time_embed_dim: null }).tensor).toBe('addition_time_embed_dim');
    expect(configError({ ...goldenJson, norm_num_groups: 5 }).tensor).toBe('norm_num_groups');
  });
});

describe('parseVaeConfig', () => {
  it('reads the golden VAE config and knows the SDXL one', () => {
    const v = parseVaeConfig(JSON.parse(readFileSync('golden/models/vae/config.json', 'utf8')));
    expect(v).toEqual({
      inChannels: 3,
      outChannels: 3,
      latentChannels: 4,
      blockOutChannels: [16, 32, 64, 64],
      layersPerBlock: 2,
      normNumGroups: 8,
      scalingFactor: 0.13025,
      forceUpcast: true,
    });
    expect(SDXL_VAE_CONFIG.blockOutChannels).toEqual([128, 256, 512, 512]);
    expect(() => parseVaeConfig({ _class_name: 'VQModel', block_out_channels: [4] }, 'vq.json')).toThrow(/vq\.json/);
  });
});
