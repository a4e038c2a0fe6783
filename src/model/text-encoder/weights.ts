/**
 * Every parameter of a CLIP text encoder by transformers name and shape (CLIPTextModel /
 * CLIPTextModelWithProjection, transformers 4.26 modeling_clip.py). `text_model.embeddings.position_ids`
 * is a constant buffer, not a parameter, and is neither listed nor read. Used to check a file before any
 * upload, and to count weight bytes without reading one.
 */
import type { TextEncoderConfig } from './config';

export type WeightShapes = Map<string, number[]>;

export const TOKEN_EMBEDDING = 'text_model.embeddings.token_embedding.weight';
export const POSITION_EMBEDDING = 'text_model.embeddings.position_embedding.weight';
export const TEXT_PROJECTION = 'text_projection.weight';

export const layerPrefix = (i: number) => `text_model.encoder.layers.${i}`;

export function textEncoderWeightShapes(c: TextEncoderConfig): WeightShapes {
  const out: WeightShapes = new Map();
  const d = c.hiddenSize;
  const linear = (p: string, cin: number, cout: number) => {
    out.set(`${p}.weight`, [cout, cin]);
    out.set(`${p}.bias`, [cout]);
  };
  const norm = (p: string) => {
    out.set(`${p}.weight`, [d]);
    out.set(`${p}.bias`, [d]);
  };
  out.set(TOKEN_EMBEDDING, [c.vocabSize, d]);
  out.set(POSITION_EMBEDDING, [c.maxPositionEmbeddings, d]);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = layerPrefix(i);
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linear(`${p}.self_attn.${proj}`, d, d);
    norm(`${p}.layer_norm1`);
    linear(`${p}.mlp.fc1`, d, c.intermediateSize);
    linear(`${p}.mlp.fc2`, c.intermediateSize, d);
    norm(`${p}.layer_norm2`);
  }
  norm('text_model.final_layer_norm');
  if (c.withProjection) out.set(TEXT_PROJECTION, [c.projectionDim, d]); // nn.Linear(hidden, proj, bias=False)
  return out;
}

export function parameterCount(shapes: WeightShapes): number {
  let n = 0;
  for (const s of shapes.values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}
