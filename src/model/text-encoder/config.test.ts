import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { headDim, parseTextEncoderConfig, SDXL_CLIP_L_CONFIG, SDXL_OPENCLIP_G_CONFIG, SDXL_CLIP_L_CONFIG_JSON } from './config';

const golden = (dir: string) => JSON.parse(readFileSync(`golden/models/${dir}/config.json`, 'utf8')) as Record<string, unknown>;

describe('CLIP text encoder config', () => {
  it('parses the golden configs (te1 quick_gelu, te2 gelu with projection)', () => {
    expect(parseTextEncoderConfig(golden('text_encoder'))).toEqual({
      hiddenSize: 32, intermediateSize: 128, numHiddenLayers: 3, numAttentionHeads: 4, maxPositionEmbeddings: 77,
      vocabSize: 49408, hiddenAct: 'quick_gelu', layerNormEps: 1e-5, withProjection: false, projectionDim: 32,
    });
    const c2 = parseTextEncoderConfig(golden('text_encoder_2'));
    expect(c2).toMatchObject({ hiddenSize: 48, intermediateSize: 192, numHiddenLayers: 4, numAttentionHeads: 4, hiddenAct: 'gelu', withProjection: true, projectionDim: 32 });
    expect(headDim(c2)).toBe(12);
  });

  it('holds the real SDXL encoders as data', () => {
    expect(SDXL_CLIP_L_CONFIG).toMatchObject({ hiddenSize: 768, intermediateSize: 3072, numHiddenLayers: 12, numAttentionHeads: 12, hiddenAct: 'quick_gelu', withProjection: false });
    expect(SDXL_OPENCLIP_G_CONFIG).toMatchObject({ hiddenSize: 1280, intermediateSize: 5120, numHiddenLayers: 32, numAttentionHeads: 20, hiddenAct: 'gelu', withProjection: true, projectionDim: 1280 });
    expect(headDim(SDXL_CLIP_L_CONFIG)).toBe(64);
    expect(headDim(SDXL_OPENCLIP_G_CONFIG)).toBe(64);
  });

  it('defaults the optional fields as CLIPTextConfig does; withProjection can be forced', () => {
    const c = parseTextEncoderConfig({ hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 });
    expect(c).toMatchObject({ maxPositionEmbeddings: 77, vocabSize: 49408, hiddenAct: 'quick_gelu', layerNormEps: 1e-5, withProjection: false, projectionDim: 8 });
    const p = parseTextEncoderConfig({ ...golden('text_encoder'), architectures: undefined }, { withProjection: true });
    expect(p.withProjection).toBe(true);
  });

  it('names the file and field of a missing or bad value', () => {
    const bad = (patch: Record<string, unknown>, field: string | undefined) => {
      const json = { ...SDXL_CLIP_L_CONFIG_JSON, ...patch };
      expect(() => parseTextEncoderConfig(json, { file: 'te/config.json' })).toThrow(expect.objectContaining({ name: 'ModelFileError', code: 'bad-config', file: 'te/config.json', tensor: field }));
    };
    bad({ hidden_size: undefined }, 'hidden_size');
    bad({ num_hidden_layers: 0 }, 'num_hidden_layers');
    bad({ intermediate_size: 30.5 }, 'intermediate_size');
    bad({ num_attention_heads: 7 }, 'num_attention_heads');
    bad({ hidden_act: 'gelu_new' }, 'hidden_act');
    bad({ layer_norm_eps: 'x' }, 'layer_norm_eps');
    bad({ architectures: ['CLIPVisionModel'] }, 'architectures');
    bad({ model_type: 'clip' }, 'model_type');
    bad({ architectures: ['CLIPTextModelWithProjection'], projection_dim: undefined }, 'projection_dim');
    expect(() => parseTextEncoderConfig([1, 2])).toThrow(expect.objectContaining({ code: 'bad-config' }));
  });
});
