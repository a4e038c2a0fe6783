/**
 * Test fixtures (not a test file itself): the golden text encoders re-packed the way an SDXL
 * single-file checkpoint stores them (CLIP-L under conditioner.embedders.0.transformer., OpenCLIP-bigG
 * under conditioner.embedders.1.model. with open_clip names, fused in_proj and x @ P text_projection),
 * written from open_clip's layout independently of src/model/weights/clip-sgm.ts.
 */
import { readFileSync } from 'node:fs';
import { encodeSafetensors, type TensorToWrite } from '../safetensors/writer';

export const TE1_FILE = 'golden/models/text_encoder/model.safetensors';
export const TE2_FILE = 'golden/models/text_encoder_2/model.safetensors';

export type Tensors = Map<string, { shape: number[]; data: Float32Array }>;

/** Every tensor of an F32 safetensors file, whole (small golden files only). */
export function readAll(path: string): Tensors {
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

const G = 'conditioner.embedders.1.model.';
const G_TOP: Record<string, string> = {
  'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
  'text_model.embeddings.position_embedding.weight': 'positional_embedding',
  'text_model.final_layer_norm.weight': 'ln_final.weight',
  'text_model.final_layer_norm.bias': 'ln_final.bias',
};

/** Both golden encoders as one SGM-style checkpoint (plus the buffers real files carry). */
export function buildSingleFileTextEncoders(): Uint8Array {
  const out: TensorToWrite[] = [];
  const add = (name: string, shape: number[], data: Float32Array) => out.push({ name, dtype: 'F32', shape, data });
  for (const [k, t] of readAll(TE1_FILE)) add(`conditioner.embedders.0.transformer.${k}`, t.shape, t.data);
  add('conditioner.embedders.0.transformer.text_model.embeddings.position_ids', [1, 77], new Float32Array(77));
  const te2 = readAll(TE2_FILE);
  for (const [k, t] of te2) {
    const m = /^text_model\.encoder\.layers\.(\d+)\.(.*)$/.exec(k);
    if (m) {
      const l = `${G}transformer.resblocks.${m[1]}.`;
      const q = /^self_attn\.q_proj\.(weight|bias)$/.exec(m[2]!);
      if (q) {
        const parts = ['q', 'k', 'v'].map((p) => te2.get(`text_model.encoder.layers.${m[1]}.self_attn.${p}_proj.${q[1]}`)!.data);
        const fused = new Float32Array(3 * t.data.length);
        parts.forEach((p, i) => fused.set(p, i * p.length));
        add(`${l}attn.in_proj_${q[1]}`, [3 * t.shape[0]!, ...t.shape.slice(1)], fused);
      } else if (!/self_attn\.[kv]_proj/.test(m[2]!)) {
        const renamed = m[2]!
          .replace('layer_norm1', 'ln_1')
          .replace('layer_norm2', 'ln_2')
          .replace('mlp.fc1', 'mlp.c_fc')
          .replace('mlp.fc2', 'mlp.c_proj')
          .replace('self_attn.out_proj', 'attn.out_proj');
        add(l + renamed, t.shape, t.data);
      }
    } else if (k === 'text_projection.weight') {
      const [r, c] = t.shape as [number, number];
      const tr = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) tr[j * r + i] = t.data[i * c + j]!;
      add(`${G}text_projection`, [c, r], tr);
    } else {
      add(G + G_TOP[k]!, t.shape, t.data);
    }
  }
  add(`${G}logit_scale`, [], Float32Array.of(4.6));
  return encodeSafetensors(out, { format: 'pt' });
}
