/**
 * The CLIP text transformer forward of transformers 4.26 (modeling_clip.py CLIPTextTransformer), on
 * the project's WGSL ops:
 *   x₀ = token_embedding(ids) + position_embedding(0..T-1)                          hidden_states[0]
 *   xᵢ = x' + fc2(act(fc1(LN2(x')))),  x' = xᵢ₋₁ + out_proj(attn(LN1(xᵢ₋₁)))         hidden_states[i]
 *        (pre-LN; causal mask only: the SDXL pipeline passes no attention_mask; heads = config)
 *   last_hidden_state = final_layer_norm(x_L)
 *   pooled[b] = last_hidden_state[b, argmax(ids[b])]  (4.26 pools at the largest id, i.e. the first EOS
 *               49407 for tokenizer output; 'eos' pooling takes the first 49407 instead, which differs
 *               only when ids ≥ 49407 other than EOS occur, e.g. learned concept tokens)
 *   text_embeds = pooled · text_projectionᵀ  (CLIPTextModelWithProjection, no bias)
 * Activations come from the pool and are released as soon as they are dead; weights are persistent.
 */
import type { GpuContext } from '../../gpu/context';
import { describe, type Tensor } from '../../gpu/tensor';
import { attention } from '../../ops/attention';
import { embedding, type EmbeddingBlock } from '../../ops/embedding';
import { add, unary } from '../../ops/elementwise';
import { linear } from '../../ops/linear';
import { layerNorm } from '../../ops/norm';
import { ModelFileError } from '../errors';
import { CLIP_EOS_ID } from './config';
import type { LoadedTextEncoder } from './load';
import { layerPrefix, POSITION_EMBEDDING, TEXT_PROJECTION } from './weights';

export type Pooling = 'argmax' | 'eos';

export interface TextEncoderRunOptions {
  /** Tokens per sequence; default max_position_embeddings (77). ids.length must be a multiple. */
  seq?: number;
  /** hidden_states to return: 'all', or indices (0 = embeddings, i = output of layer i). Default none. */
  hiddenStates?: 'all' | readonly number[];
  /** Run only the first `layers` encoder layers (default all). */
  layers?: number;
  /** Compute last_hidden_state, pooled (and text_embeds); default true when all layers run. */
  final?: boolean;
  /** [K, hidden] rows for ids vocab_size … vocab_size + K - 1 (CIDM concept tokens), in the model's dtype. */
  extraEmbeddings?: Tensor;
  /** Default 'argmax' (transformers 4.26). */
  pooling?: Pooling;
}

export interface TextEncoderOutput {
  /** The requested hidden states by index, each [B, T, hidden]. */
  hiddenStates: Map<number, Tensor>;
  lastHiddenState: Tensor | null;
  /** [B, hidden] */
  pooled: Tensor | null;
  /** [B, projection_dim], projection models only. */
  textEmbeds: Tensor | null;
}

/** Which token each sequence pools at. */
export function poolIndices(ids: ArrayLike<number>, seq: number, pooling: Pooling = 'argmax'): number[] {
  const out: number[] = [];
  for (let s = 0; s * seq < ids.length; s++) {
    const row = Array.from({ length: seq }, (_, t) => ids[s * seq + t]!);
    const eos = pooling === 'eos' ? row.indexOf(CLIP_EOS_ID) : -1;
    // torch.argmax returns the first maximum; a sequence without EOS falls back to it under 'eos' too.
    out.push(eos >= 0 ? eos : row.indexOf(Math.max(...row)));
  }
  return out;
}

function weightOf(te: LoadedTextEncoder, name: string): Tensor {
  const w = te.weights.get(name);
  if (!w) throw new ModelFileError('missing-tensor', 'text encoder', 'the text encoder needs this weight', name);
  return w;
}

/** One pre-LN encoder layer; consumes nothing (x stays the caller's). */
async function encoderLayer(ctx: GpuContext, te: LoadedTextEncoder, i: number, x: Tensor): Promise<Tensor> {
  const c = te.config;
  const w = (n: string) => weightOf(te, `${layerPrefix(i)}.${n}`);
  const eps = c.layerNormEps;
  const h = await layerNorm(ctx, x, w('layer_norm1.weight'), w('layer_norm1.bias'), { eps, label: `te-l${i}-ln1` });
  const proj = (p: string) => linear(ctx, h, w(`self_attn.${p}.weight`), w(`self_attn.${p}.bias`), { label: `te-l${i}-${p}` });
  const q = await proj('q_proj');
  const k = await proj('k_proj');
  const v = await proj('v_proj');
  ctx.release(h);
  // attention scales q·kᵀ by head_dim^-1/2, as CLIPAttention does (it scales q before the product).
  const a = await attention(ctx, q, k, v, { heads: c.numAttentionHeads, causal: true, label: `te-l${i}-attn` });
  ctx.release(q, k, v);
  const o = await linear(ctx, a, w('self_attn.out_proj.weight'), w('self_attn.out_proj.bias'), { label: `te-l${i}-out` });
  ctx.release(a);
  const x1 = await add(ctx, o, x, { out: o }); // residual, in place on the projection's output
  const h2 = await layerNorm(ctx, x1, w('layer_norm2.weight'), w('layer_norm2.bias'), { eps, label: `te-l${i}-ln2` });
  const f = await linear(ctx, h2, w('mlp.fc1.weight'), w('mlp.fc1.bias'), { label: `te-l${i}-fc1` });
  ctx.release(h2);
  await unary(ctx, c.hiddenAct, f, { out: f });
  const g = await linear(ctx, f, w('mlp.fc2.weight'), w('mlp.fc2.bias'), { label: `te-l${i}-fc2` });
  ctx.release(f);
  const x2 = await add(ctx, g, x1, { out: g });
  ctx.release(x1);
  return x2;
}

export async function textEncoderForward(
  ctx: GpuContext,
  te: LoadedTextEncoder,
  ids: ArrayLike<number>,
  o: TextEncoderRunOptions = {},
): Promise<TextEncoderOutput> {
  const c = te.config;
  const L = c.numHiddenLayers;
  const seq = o.seq ?? c.maxPositionEmbeddings;
  if (seq > c.maxPositionEmbeddings) throw new RangeError(`text encoder: ${seq} tokens exceed ${c.maxPositionEmbeddings} positions`);
  if (ids.length === 0 || ids.length % seq !== 0) throw new RangeError(`text encoder: ${ids.length} ids are not whole sequences of ${seq}`);
  const layers = o.layers ?? L;
  if (!Number.isInteger(layers) || layers < 0 || layers > L) throw new RangeError(`text encoder: layers=${layers} outside 0..${L}`);
  const final = o.final ?? layers === L;
  if (final && layers !== L) throw new RangeError('text encoder: last_hidden_state/pooled need every layer');
  const wanted = new Set(o.hiddenStates === 'all' ? Array.from({ length: layers + 1 }, (_, i) => i) : (o.hiddenStates ?? []));
  for (const i of wanted) if (!Number.isInteger(i) || i < 0 || i > layers) throw new RangeError(`text encoder: hidden_states[${i}] is not computed (layers=${layers})`);

  const blocks: EmbeddingBlock[] = [...te.tokenBlocks];
  if (o.extraEmbeddings) {
    const e = o.extraEmbeddings;
    if (e.dtype !== te.dtype || e.shape.length !== 2 || e.shape[1] !== c.hiddenSize) {
      throw new RangeError(`text encoder: extra embeddings ${describe(e)} must be ${te.dtype}[K×${c.hiddenSize}]`);
    }
    blocks.push({ tensor: e, start: c.vocabSize });
  }
  const out: TextEncoderOutput = { hiddenStates: new Map(), lastHiddenState: null, pooled: null, textEmbeds: null };
  const live: Tensor[] = [];
  try {
    let x = await embedding(ctx, ids, blocks, { positions: weightOf(te, POSITION_EMBEDDING), seq, label: 'te-embeddings' });
    live.push(x);
    for (let i = 0; ; i++) {
      if (wanted.has(i)) out.hiddenStates.set(i, x);
      if (i === layers) break;
      const next = await encoderLayer(ctx, te, i, x);
      live.push(next);
      if (!wanted.has(i)) ctx.release(x);
      x = next;
    }
    if (final) {
      const last = await layerNorm(ctx, x, weightOf(te, 'text_model.final_layer_norm.weight'), weightOf(te, 'text_model.final_layer_norm.bias'), {
        eps: c.layerNormEps,
        label: 'te-final-ln',
      });
      live.push(last);
      if (!wanted.has(layers)) ctx.release(x);
      out.lastHiddenState = last;
      // The pooled rows are a gather from last_hidden_state seen as a [B·T, hidden] table.
      const rows = poolIndices(ids, seq, o.pooling).map((t, b) => b * seq + t);
      out.pooled = await embedding(ctx, rows, [{ tensor: { ...last, shape: [ids.length, c.hiddenSize] }, start: 0 }], { label: 'te-pooled' });
      live.push(out.pooled);
      if (c.withProjection) {
        out.textEmbeds = await linear(ctx, out.pooled, weightOf(te, TEXT_PROJECTION), undefined, { label: 'te-text-embeds' });
        live.push(out.textEmbeds);
      }
    } else if (!wanted.has(layers)) {
      ctx.release(x);
    }
    return out;
  } catch (err) {
    ctx.releaseLive(...live);
    throw err;
  }
}

/** Releases every tensor an output holds. */
export function releaseTextEncoderOutput(ctx: GpuContext, out: TextEncoderOutput): void {
  ctx.releaseLive(...out.hiddenStates.values(), ...[out.lastHiddenState, out.pooled, out.textEmbeds].filter((t): t is Tensor => t !== null));
}
