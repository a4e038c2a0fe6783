/**
 * Test fixture (Node only; unit, GPU and e2e tests): the tiny golden SDXL (golden/models, diffusers
 * layout) rewritten as one SGM single-file checkpoint, the way Stability ships SDXL base: UNet under
 * model.diffusion_model.* (LDM numbering), VAE under first_stage_model.* (LDM names, attention
 * projections as 1×1 convs), CLIP-L under conditioner.embedders.0.transformer.*, OpenCLIP-bigG under
 * conditioner.embedders.1.model.* (open_clip names, fused in_proj, text_projection transposed), plus the
 * buffers real files carry (position_ids, logit_scale). Stored in F32, F16 or BF16 (bf16 rounded to
 * nearest even, as torch's .to(torch.bfloat16)). The VAE and CLIP renames are written here from
 * diffusers' convert_ldm_vae_checkpoint / convert_open_clip_checkpoint in reverse, independently of
 * src/model/weights/vae-ldm.ts and clip-sgm.ts.
 *
 * The golden model's configs differ from the reference ones in what no shape tells (8 GroupNorm groups,
 * 16-wide UNet heads, 4 text heads): they go into the metadata's config hints (config-hints.ts), read
 * from the golden config.json files. Files are written to a temp folder at test time, never committed.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f32ToF16Bits } from '../../gpu/f16';
import { parseUNetConfig } from '../config';
import { encodeSafetensors, type TensorToWrite } from '../safetensors/writer';
import { CONFIG_HINTS_KEY, type ConfigHints } from './config-hints';
import { diffusersToSgmUNetName } from './unet-sgm';
import { readAll, type Tensors } from '../text-encoder/fixtures.test-util';

export const TINY_FOLDER = 'golden/models';
export type StoredDtype = 'F32' | 'F16' | 'BF16';


/** A diffusers-folder safetensors file (all F32 in golden/models), read whole: it is small. */
export const loadF32Safetensors: (path: string) => Tensors = readAll;

const json = (path: string) => JSON.parse(readFileSync(join(TINY_FOLDER, path), 'utf8')) as Record<string, unknown>;

/** diffusers VAE -> LDM name and stored shape (convert_ldm_vae_checkpoint in reverse). */
export function vaeToLdm(name: string, shape: number[], levels: number): [string, number[]] {
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
    .replace(/^decoder\.up_blocks\.(\d)\.resnets\./, (_, i: string) => `decoder.up.${levels - 1 - +i}.block.`)
    .replace(/^decoder\.up_blocks\.(\d)\.upsamplers\.0\./, (_, i: string) => `decoder.up.${levels - 1 - +i}.upsample.`)
    .replace('conv_shortcut', 'nin_shortcut')
    .replace('conv_norm_out', 'norm_out');
  return [s, shape];
}

const OPENCLIP_TOP: Record<string, string> = {
  'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
  'text_model.embeddings.position_embedding.weight': 'positional_embedding',
  'text_model.final_layer_norm.weight': 'ln_final.weight',
  'text_model.final_layer_norm.bias': 'ln_final.bias',
};

/** transformers CLIPTextModelWithProjection -> open_clip names (convert_open_clip_checkpoint in reverse). */
function addOpenClip(add: (name: string, shape: number[], data: Float32Array) => void, te2: Tensors, g: string): void {
  for (const [k, t] of te2) {
    const m = /^text_model\.encoder\.layers\.(\d+)\.(.*)$/.exec(k);
    if (m) {
      const l = `${g}transformer.resblocks.${m[1]}.`;
      const qkv = /^self_attn\.q_proj\.(weight|bias)$/.exec(m[2]!);
      if (qkv) {
        const parts = ['q_proj', 'k_proj', 'v_proj'].map((p) => te2.get(`text_model.encoder.layers.${m[1]}.self_attn.${p}.${qkv[1]}`)!.data);
        const fused = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
        parts.forEach((p, i) => fused.set(p, i * p.length));
        add(`${l}attn.in_proj_${qkv[1]}`, [3 * t.shape[0]!, ...t.shape.slice(1)], fused);
      } else if (!/self_attn\.[kv]_proj/.test(m[2]!)) {
        const renamed = m[2]!.replace('layer_norm1', 'ln_1').replace('layer_norm2', 'ln_2').replace('mlp.fc1', 'mlp.c_fc')
          .replace('mlp.fc2', 'mlp.c_proj').replace('self_attn.out_proj', 'attn.out_proj');
        add(l + renamed, t.shape, t.data);
      }
    } else if (k === 'text_projection.weight') {
      const [r, c] = t.shape as [number, number];
      const tr = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) tr[j * r + i] = t.data[i * c + j]!;
      add(`${g}text_projection`, [c, r], tr);
    } else add(g + OPENCLIP_TOP[k]!, t.shape, t.data);
  }
}

/** The golden model's values of the fields no tensor shape carries (see the file comment). */
export function tinyConfigHints(): ConfigHints {
  const unet = json('unet/config.json');
  const heads = parseUNetConfig(unet).numAttentionHeads;
  return {
    unet: { attention_head_dim: heads, norm_num_groups: unet.norm_num_groups as number, sample_size: unet.sample_size as number },
    vae: { norm_num_groups: json('vae/config.json').norm_num_groups as number },
    text_encoder: { num_attention_heads: json('text_encoder/config.json').num_attention_heads as number },
    text_encoder_2: { num_attention_heads: json('text_encoder_2/config.json').num_attention_heads as number },
  };
}

/** f32 -> bf16 bits, round to nearest even (torch's conversion; NaN kept quiet). */
function bf16Bits(data: Float32Array): Uint16Array {
  const u = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i]!;
    out[i] = (x & 0x7fffffff) > 0x7f800000 ? (x >>> 16) | 0x40 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

function stored(dtype: StoredDtype, data: Float32Array): ArrayBufferView {
  if (dtype === 'F32') return data;
  if (dtype === 'BF16') return bf16Bits(data);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = f32ToF16Bits(data[i]!);
  return out;
}

export interface TinySingleFileOptions {
  dtype?: StoredDtype;
  /** Leave out one UNet tensor (diffusers name): a damaged file for the error tests. */
  dropUNet?: string;
  /** Write the config hints (default true); without them the reference rules apply and the tiny model is refused. */
  hints?: boolean;
}

/** The tiny golden SDXL as SGM single-file bytes. */
export function tinySgmCheckpoint(o: TinySingleFileOptions = {}): Uint8Array {
  const dtype = o.dtype ?? 'F32';
  const unetConfig = parseUNetConfig(json('unet/config.json'));
  const levels = (json('vae/config.json').block_out_channels as number[]).length;
  const out: TensorToWrite[] = [];
  const add = (name: string, shape: number[], data: Float32Array) => out.push({ name, dtype, shape, data: stored(dtype, data) });
  const load = (p: string) => loadF32Safetensors(join(TINY_FOLDER, p));
  for (const [k, t] of load('unet/diffusion_pytorch_model.safetensors')) {
    if (k !== o.dropUNet) add(`model.diffusion_model.${diffusersToSgmUNetName(k, unetConfig)}`, t.shape, t.data);
  }
  for (const [k, t] of load('vae/diffusion_pytorch_model.safetensors')) add(`first_stage_model.${vaeToLdm(k, t.shape, levels)[0]}`, vaeToLdm(k, t.shape, levels)[1], t.data);
  for (const [k, t] of load('text_encoder/model.safetensors')) add(`conditioner.embedders.0.transformer.${k}`, t.shape, t.data);
  out.push({ name: 'conditioner.embedders.0.transformer.text_model.embeddings.position_ids', dtype: 'I64', shape: [1, 77], data: new BigInt64Array(77).map((_, i) => BigInt(i)) });
  const g = 'conditioner.embedders.1.model.';
  addOpenClip(add, load('text_encoder_2/model.safetensors'), g);
  add(`${g}logit_scale`, [], Float32Array.of(4.6052));
  const metadata: Record<string, string> = { format: 'pt', 'modelspec.architecture': 'stable-diffusion-xl-v1-base' };
  if (o.hints !== false) metadata[CONFIG_HINTS_KEY] = JSON.stringify(tinyConfigHints());
  return encodeSafetensors(out, metadata);
}

/**
 * Writes the checkpoint to a new temp folder as `name`, with the tokenizer files beside it
 * (tokenizer/ and tokenizer_2/, as a person supplies them); returns the folder and the file's path.
 */
export function writeTinySingleFile(o: TinySingleFileOptions & { name?: string; tokenizers?: boolean; dir?: string } = {}): { dir: string; file: string } {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'cidm-tiny-sgm-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, o.name ?? `tiny_sdxl_${(o.dtype ?? 'F32').toLowerCase()}.safetensors`);
  writeFileSync(file, tinySgmCheckpoint(o));
  if (o.tokenizers !== false) {
    for (const t of ['tokenizer', 'tokenizer_2']) {
      mkdirSync(join(dir, t), { recursive: true });
      for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(TINY_FOLDER, t, f), join(dir, t, f));
    }
  }
  return { dir, file };
}
