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
import type { TensorRef } from '../unet/backend';
import { GpuTextBackend, type TextEncoderBackend } from './backend';
import { CLIP_EOS_ID, type TextEncoderConfig } from './config';
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
  /** The end-of-text id 'eos' pooling looks for (default CLIP's 49407; a config's eos_token_id is unreliable). */
  eosId?: number;
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
export function poolIndices(ids: ArrayLike<number>, seq: number, pooling: Pooling = 'argmax', eosId = CLIP_EOS_ID): number[] {
  const out: number[] = [];
  for (let s = 0; s * seq < ids.length; s++) {
    const row = Array.from({ length: seq }, (_, t) => ids[s * seq + t]!);
    const eos = pooling === 'eos' ? row.indexOf(eosId) : -1;
    // torch.argmax returns the first maximum; a sequence without EOS falls back to it under 'eos' too.
    out.push(eos >= 0 ? eos : row.indexOf(Math.max(...row)));
  }
  return out;
}

/** One pre-LN encoder layer; x stays the caller's. */
async function encoderLayer<T extends TensorRef>(be: TextEncoderBackend<T>, c: TextEncoderConfig, i: number, x: T): Promise<T> {
  const w = (n: string) => be.weight(`${layerPrefix(i)}.${n}`);
  const eps = c.layerNormEps;
  const h = await be.layerNorm(x, w('layer_norm1.weight'), w('layer_norm1.bias'), eps);
  const q = await be.linear(h, w('self_attn.q_proj.weight'), w('self_attn.q_proj.bias'));
  const k = await be.linear(h, w('self_attn.k_proj.weight'), w('self_attn.k_proj.bias'));
  const v = await be.linear(h, w('self_attn.v_proj.weight'), w('self_attn.v_proj.bias'));
  be.release(h);
  // attention scales q·kᵀ by head_dim^-1/2, as CLIPAttention does (it scales q before the product).
  const a = await be.attention(q, k, v, c.numAttentionHeads, true);
  be.release(q, k, v);
  const o = await be.linear(a, w('self_attn.out_proj.weight'), w('self_attn.out_proj.bias'));
  be.release(a);
  const x1 = await be.add(o, x); // residual
  be.release(o);
  const h2 = await be.layerNorm(x1, w('layer_norm2.weight'), w('layer_norm2.bias'), eps);
  const f = await be.linear(h2, w('mlp.fc1.weight'), w('mlp.fc1.bias'));
  be.release(h2);
  const fa = await be.activation(c.hiddenAct, f);
  be.release(f);  const g = await be.linear(fa, w('mlp.fc2.weight'), w('mlp.fc2.bias'));
  be.release(fa);
  const x2 = await be.add(g, x1);
  be.release(g, x1);
  return x2;
}

export interface TextEncoderOutputOf<T> {
  hiddenStates: Map<number, T>;
  lastHiddenState: T | null;
  pooled: T | null;
  textEmbeds: T | null;
}

/** Checks the run options against the config; returns what to run. */
function plan(c: TextEncoderConfig, n: number, o: TextEncoderRunOptions) {
  const L = c.numHiddenLayers;
  const seq = o.seq ?? c.maxPositionEmbeddings;
  if (seq > c.maxPositionEmbeddings) throw new RangeError(`text encoder: ${seq} tokens exceed ${c.maxPositionEmbeddings} positions`);
  if (n === 0 || n % seq !== 0) throw new RangeError(`text encoder: ${n} ids are not whole sequences of ${seq}`);
  const layers = o.layers ?? L;
  if (!Number.isInteger(layers) || layers < 0 || layers > L) throw new RangeError(`text encoder: layers=${layers} outside 0..${L}`);
  const final = o.final ?? layers === L;
  if (final && layers !== L) throw new RangeError('text encoder: last_hidden_state/pooled need every layer');
  const wanted = new Set(o.hiddenStates === 'all' ? Array.from({ length: layers + 1 }, (_, i) => i) : (o.hiddenStates ?? []));
  for (const i of wanted) if (!Number.isInteger(i) || i < 0 || i > layers) throw new RangeError(`text encoder: hidden_states[${i}] is not computed (layers=${layers})`);
  return { seq, layers, final, wanted };
}

/**
 * The forward over any backend. `extra` holds learned concept-token rows for ids ≥ vocab_size (a
 * tensor of the backend: trainable in the training backend).
 */
export async function textEncoderForwardOn<T extends TensorRef>(
  be: TextEncoderBackend<T>,
  te: Pick<LoadedTextEncoder, 'config' | 'tokenBlocks'>,
  ids: ArrayLike<number>,
  o: Omit<TextEncoderRunOptions, 'extraEmbeddings'> & { extra?: T } = {},
): Promise<TextEncoderOutputOf<T>> {
  const c = te.config;
  const { seq, layers, final, wanted } = plan(c, ids.length, o);
  if (o.extra && (o.extra.shape.length !== 2 || o.extra.shape[1] !== c.hiddenSize)) {
    throw new RangeError(`text encoder: extra embeddings [${o.extra.shape}] must be [K×${c.hiddenSize}]`);
  }
  const out: TextEncoderOutputOf<T> = { hiddenStates: new Map(), lastHiddenState: null, pooled: null, textEmbeds: null };
  let x = await be.embed(ids, seq, te.tokenBlocks, be.weight(POSITION_EMBEDDING), o.extra ? { rows: o.extra, start: c.vocabSize } : undefined);
  // Training (a backend with checkpoint()): layers run in segments of about √layers, each segment
  // checkpointed as a whole with every layer checkpointed inside it, so the backward holds one input
  // per segment plus one segment's layer inputs instead of every layer's input (for SDXL's 70 layer-wise
  // prompts through bigG's 32 layers that is 448 MiB → ~150 MiB). Segments end at requested hidden states.
  const segment = be.checkpoint ? Math.max(1, Math.round(Math.sqrt(layers))) : layers;
  const layer = async (i: number, xi: T): Promise<T> =>
    be.checkpoint ? be.checkpoint(layerPrefix(i), [xi], ([v]) => encoderLayer(be, c, i, v!)) : encoderLayer(be, c, i, xi);
  /** Layers from..to−1 on x (which stays the caller's). */
  const run = async (from: number, to: number, xi: T): Promise<T> => {
    let h = xi;
    for (let i = from; i < to; i++) {
      const next = await layer(i, h);
      if (h !== xi) be.release(h);
      h = next;
    }
    return h;
  };
  if (wanted.has(0)) out.hiddenStates.set(0, x);
  for (let i = 0; i < layers; ) {
    let end = Math.min(layers, i + segment);
    for (let j = i + 1; j < end; j++) if (wanted.has(j)) end = j; // a requested state ends the segment
    const from = i;
    const next = end - from > 1 && be.checkpoint ? await be.checkpoint(`text layers ${from}..${end - 1}`, [x], ([v]) => run(from, end, v!)) : await run(from, end, x);
    if (!wanted.has(from)) be.release(x);
    x = next;
    i = end;
    if (wanted.has(i)) out.hiddenStates.set(i, x);
  }
  if (final) {
    const last = await be.layerNorm(x, be.weight('text_model.final_layer_norm.weight'), be.weight('text_model.final_layer_norm.bias'), c.layerNormEps);
    if (!wanted.has(layers)) be.release(x);
    out.lastHiddenState = last;
    // The pooled rows are a gather from last_hidden_state seen as a [B·T, hidden] table.
    const rows = poolIndices(ids, seq, o.pooling, o.eosId).map((t, b) => b * seq + t);
    out.pooled = await be.gatherRows(be.reshape(last, [ids.length, c.hiddenSize]), rows);
    if (c.withProjection) out.textEmbeds = await be.linear(out.pooled, be.weight(TEXT_PROJECTION), null);
  } else if (!wanted.has(layers)) {
    be.release(x);
  }
  return out;
}

export async function textEncoderForward(
  ctx: GpuContext,
  te: LoadedTextEncoder,
  ids: ArrayLike<number>,
  o: TextEncoderRunOptions = {},
): Promise<TextEncoderOutput> {
  if (o.extraEmbeddings) {
    const e = o.extraEmbeddings;
    if (e.dtype !== te.dtype || e.shape.length !== 2 || e.shape[1] !== te.config.hiddenSize) {
      throw new RangeError(`text encoder: extra embeddings ${describe(e)} must be ${te.dtype}[K×${te.config.hiddenSize}]`);
    }
  }
  const live: Tensor[] = [];
  const be = new GpuTextBackend(ctx, te.weights);
  // Track every tensor handed out so an error mid-forward frees them (the pool would leak otherwise).
  const tracking: TextEncoderBackend<Tensor> = new Proxy(be, {
    get(target, prop, recv) {
      const f = Reflect.get(target, prop, recv) as unknown;
      if (typeof f !== 'function' || prop === 'weight' || prop === 'release' || prop === 'reshape') return f;
      return async (...args: unknown[]) => {
        const r = (await (f as (...a: unknown[]) => Promise<Tensor>).apply(target, args)) as Tensor;
        live.push(r);
        return r;
      };
    },
  });
  try {
    const { extraEmbeddings, ...rest } = o;
    return await textEncoderForwardOn(tracking, te, ids, { ...rest, ...(extraEmbeddings ? { extra: extraEmbeddings } : {}) });
  } catch (err) {
    ctx.releaseLive(...live);
    throw err;
  }
}

/** Releases every tensor an output holds. */
export function releaseTextEncoderOutput(ctx: GpuContext, out: TextEncoderOutput): void {
  ctx.releaseLive(...out.hiddenStates.values(), ...[out.lastHiddenState, out.pooled, out.textEmbeds].filter((t): t is Tensor => t !== null));
}
