/**
 * CLIP text encoder configuration: the fields of a transformers CLIPTextConfig config.json that decide
 * the architecture (transformers 4.26 models/clip/configuration_clip.py), plus SDXL's two real encoders
 * as data. Sizes (hidden, intermediate, layers, heads) are required; the rest default as in
 * CLIPTextConfig. Anything outside what forward.ts implements is a `bad-config` ModelFileError naming
 * the field.
 */
import { ModelFileError } from '../errors';

export type ClipActivation = 'quick_gelu' | 'gelu';

export interface TextEncoderConfig {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  maxPositionEmbeddings: number;
  vocabSize: number;
  /** quick_gelu x·σ(1.702x) (CLIP-L) or the exact erf GELU (OpenCLIP-bigG). */
  hiddenAct: ClipActivation;
  layerNormEps: number;
  /** CLIPTextModelWithProjection: text_embeds = pooled · text_projectionᵀ (no bias). */
  withProjection: boolean;
  /** Width of text_embeds (used only with the projection). */
  projectionDim: number;
}

/** CLIP's end-of-text id (the SDXL configs' eos_token_id field says 2, a known transformers wart). */
export const CLIP_EOS_ID = 49407;

const ARCHITECTURES: Record<string, boolean> = { CLIPTextModel: false, CLIPTextModelWithProjection: true };

type Json = Record<string, unknown>;

export interface ParseTextEncoderOptions {
  /** Names the file in errors. */
  file?: string;
  /** Force the projection head on/off when `architectures` is absent or says otherwise. */
  withProjection?: boolean;
}

/** Parses a transformers CLIPTextConfig (already JSON-parsed). */
export function parseTextEncoderConfig(json: unknown, o: ParseTextEncoderOptions = {}): TextEncoderConfig {
  const file = o.file ?? 'text_encoder/config.json';
  const fail = (field: string | undefined, why: string): never => {
    throw new ModelFileError('bad-config', file, why, field);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(undefined, 'the config is not a JSON object');
  const j = json as Json;
  const present = (k: string) => j[k] !== undefined && j[k] !== null;
  const int = (k: string, dflt?: number): number => {
    const v = present(k) ? j[k] : dflt;
    if (v === undefined) fail(k, 'the field is missing');
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail(k, `expected a positive integer, found ${JSON.stringify(v)}`);
    return v as number;
  };
  const num = (k: string, dflt: number): number => {
    const v = present(k) ? j[k] : dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(k, `expected a positive number, found ${JSON.stringify(v)}`);
    return v as number;
  };

  if (present('model_type') && j.model_type !== 'clip_text_model') {
    fail('model_type', `${JSON.stringify(j.model_type)} is not a CLIP text model (clip_text_model)`);
  }
  let withProjection = o.withProjection;
  if (withProjection === undefined && present('architectures')) {
    const a = j.architectures;
    const known = Array.isArray(a) ? a.find((x): x is string => typeof x === 'string' && x in ARCHITECTURES) : undefined;
    if (known === undefined) fail('architectures', `${JSON.stringify(a)} names neither CLIPTextModel nor CLIPTextModelWithProjection`);
    withProjection = ARCHITECTURES[known!];
  }
  const act = present('hidden_act') ? j.hidden_act : 'quick_gelu';
  if (act !== 'quick_gelu' && act !== 'gelu') fail('hidden_act', `${JSON.stringify(act)} is not supported (quick_gelu or gelu)`);

  const c: TextEncoderConfig = {
    hiddenSize: int('hidden_size'),
    intermediateSize: int('intermediate_size'),
    numHiddenLayers: int('num_hidden_layers'),
    numAttentionHeads: int('num_attention_heads'),
    maxPositionEmbeddings: int('max_position_embeddings', 77),
    vocabSize: int('vocab_size', 49408),
    hiddenAct: act as ClipActivation,
    layerNormEps: num('layer_norm_eps', 1e-5),
    withProjection: withProjection ?? false,
    projectionDim: 0,
  };
  // CLIPTextConfig defaults projection_dim to 512, but a projection model without one is almost
  // certainly a truncated config: refuse it rather than guess.
  c.projectionDim = c.withProjection ? int('projection_dim') : present('projection_dim') ? int('projection_dim') : c.hiddenSize;
  if (c.hiddenSize % c.numAttentionHeads !== 0) {
    fail('num_attention_heads', `hidden_size ${c.hiddenSize} does not split into ${c.numAttentionHeads} heads`);
  }
  return c;
}

/** Attention head size. */
export function headDim(c: TextEncoderConfig): number {
  return c.hiddenSize / c.numAttentionHeads;
}

/** SDXL text_encoder: OpenAI CLIP ViT-L/14's text tower (stabilityai/stable-diffusion-xl-base-1.0). */
export const SDXL_CLIP_L_CONFIG_JSON = {
  architectures: ['CLIPTextModel'],
  hidden_act: 'quick_gelu',
  hidden_size: 768,
  intermediate_size: 3072,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 77,
  model_type: 'clip_text_model',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  projection_dim: 768,
  vocab_size: 49408,
} as const;

/** SDXL text_encoder_2: OpenCLIP ViT-bigG/14's text tower with its projection. */
export const SDXL_OPENCLIP_G_CONFIG_JSON = {
  architectures: ['CLIPTextModelWithProjection'],
  hidden_act: 'gelu',
  hidden_size: 1280,
  intermediate_size: 5120,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 77,
  model_type: 'clip_text_model',
  num_attention_heads: 20,
  num_hidden_layers: 32,
  projection_dim: 1280,
  vocab_size: 49408,
} as const;

export const SDXL_CLIP_L_CONFIG: TextEncoderConfig = parseTextEncoderConfig(SDXL_CLIP_L_CONFIG_JSON, { file: 'SDXL text_encoder config' });
export const SDXL_OPENCLIP_G_CONFIG: TextEncoderConfig = parseTextEncoderConfig(SDXL_OPENCLIP_G_CONFIG_JSON, { file: 'SDXL text_encoder_2 config' });
