/**
 * The UNet2DConditionModel forward pass (diffusers 0.25 `UNet2DConditionModel.forward`), written once
 * over a UNetBackend. SDXL (text_time addition embedding) and SD-1.5 come from the same blocks.
 */
import type { ResnetArch, TransformerArch, UNetArch } from './arch';
import type { TensorRef, UNetBackend } from './backend';
import { selfAttentionModule } from './self-attention';
import { regionalAttentionModule, regionalSource, type ConceptRegionalInputs, type RegionalInputs, type RegionalLayer, type RegionalSource } from './regional-forward';
import { crossAttentionModule } from './cross-attention';
import type { CrossAttentionKvCache } from './cross-attention-kv-cache';

export * from './regional-forward';
export { selfAttentionModule } from './self-attention';

export interface UNetInputs<T extends TensorRef> {
  /** Noisy latents [B, 4, h, w]. */
  sample: T;
  /** One timestep per batch element. */
  timesteps: readonly number[];
  /** Text encoder hidden states [B, 77, crossDim]. */
  encoderHiddenStates: T;
  /** SDXL only: pooled text embeds [B, 1280] and the 6 micro-conditioning ids per sample. */
  textEmbeds?: T;
  timeIds?: readonly number[];
  /** CIDM regional cross-attention (spec §4.2) in every attn2 layer; absent = the plain forward. */
  regional?: RegionalInputs<T> | ConceptRegionalInputs<T>;
  /**
   * CIDM layer-wise conditioning (spec §1.4): the text states [B, 77, crossDim] of cross-attention layer
   * l, in traversal order down → mid → up (unetCrossAttentionLayers); attn2 number l reads entry l
   * instead of encoderHiddenStates.
   */
  layerContexts?: readonly T[];
  /**
   * Cancellation between blocks (issue 13: Cancel stops within one UNet block, not one step). Checked
   * after every resnet/transformer/resample block, where the backend's `settle` submits the block's
   * recorded work and waits for the block before it (at most two on the GPU, no readback), so an abort
   * leaves at most two blocks' work on the queue instead of the whole forward.
   */
  signal?: AbortSignal;
  /**
   * The run's cache of attn2 K/V (cross-attention-kv-cache.ts, issue 15 point 3): every attn2 layer
   * projects its context on the first step and reads the cached K/V after (plain regions too; concept-aware
   * regions always project). Absent = every step projects them (training, single forwards). The caller
   * owns and releases it.
   */
  crossAttentionKv?: CrossAttentionKvCache<T>;
}

/** Hands out the K/V input of each attn2 in traversal order (the plain context, or layer-wise ones). */
interface ContextSource<T> {
  next(): T;
}

function contextSource<T extends TensorRef>(inp: UNetInputs<T>): ContextSource<T> {
  let l = 0;
  return {
    next() {
      if (!inp.layerContexts) return inp.encoderHiddenStates;
      const c = inp.layerContexts[l++];
      if (!c) throw new RangeError(`layer-wise conditioning: ${inp.layerContexts.length} contexts for more cross-attention layers`);
      return c;
    },
  };
}

/**
 * Runs a block through the backend's gradient checkpointing when it has one (the training backend
 * keeps only the block's inputs and recomputes its inside in the backward), else directly.
 */
function block<T extends TensorRef>(be: UNetBackend<T>, name: string, inputs: readonly T[], run: (inputs: readonly T[]) => Promise<T>): Promise<T> {
  return be.checkpoint ? be.checkpoint(name, inputs, run) : run(inputs);
}


/** Transformer2DModel GroupNorm uses eps 1e-6 in diffusers regardless of norm_eps. */
const TRANSFORMER_NORM_EPS = 1e-6;
const LAYER_NORM_EPS = 1e-5;

export async function unetForward<T extends TensorRef>(be: UNetBackend<T>, arch: UNetArch, inp: UNetInputs<T>): Promise<T> {
  const B = inp.sample.shape[0]!;
  if (inp.timesteps.length !== B) throw new RangeError(`${inp.timesteps.length} timesteps for batch ${B}`);
  const w = (n: string) => be.weight(n);
  // a checkpointing (training) backend recomputes blocks in its backward: K/V must stay its own there
  if (inp.crossAttentionKv && be.checkpoint) throw new TypeError('a cross-attention K/V cache cannot be used with a checkpointing (training) backend');
  const kvCache = inp.crossAttentionKv;

  // 1. time embedding (+ SDXL text_time addition embedding), then SiLU once for every resnet.
  const tProj = await be.timestepEmbedding(inp.timesteps, arch.timeProjDim, arch.flipSinToCos, arch.freqShift);
  let emb = await mlp(be, 'time_embedding', tProj);
  be.release(tProj);
  if (arch.addition) {
    if (!inp.textEmbeds || !inp.timeIds) throw new Error('SDXL UNet needs textEmbeds and timeIds');
    const ids = await be.timestepEmbedding(inp.timeIds, arch.addition.timeEmbedDim, arch.flipSinToCos, arch.freqShift);
    const idsFlat = be.reshape(ids, [B, ids.shape[0]! / B * arch.addition.timeEmbedDim]);
    const addIn = await be.concatLast(inp.textEmbeds, idsFlat);
    be.release(ids);
    const aug = await mlp(be, 'add_embedding', addIn);
    be.release(addIn);
    const sum = await be.add(emb, aug);
    be.release(emb, aug);
    emb = sum;
  }
  const embAct = await be.silu(emb);
  be.release(emb);

  // CIDM regional cross-attention: each attn2 layer takes its prompts from the source (see transformer).
  const regional = inp.regional ? await regionalSource(be, inp.encoderHiddenStates, inp.regional) : undefined;

  // 2. down path; every resnet/attention output and every downsample output is a skip.
  const contexts = contextSource(inp);
  const res = (r: ResnetArch, x: T, consume: boolean) => block(be, r.prefix, [x, embAct], ([xi, e]) => resnet(be, arch, r, xi!, e!, consume));
  let h = await be.conv2d(inp.sample, w('conv_in.weight'), w('conv_in.bias'), { stride: 1, padding: 1 });
  const skips: T[] = [h];
  // Each block is its own submission (issue 15 point 2: no submission long enough for Windows' ~2 s GPU
  // reset, and the GPU starts on a block while the next is encoded); a cancel gives the pool back every
  // live activation (skips, h, the embedding), then throws
  const between = async () => {
    await be.settle?.();
    if (!inp.signal?.aborted) return;
    be.release(...new Set([...skips, h, embAct]));
    regional?.release();
    inp.signal.throwIfAborted();
  };
  for (const down of arch.down) {
    for (const [j, r] of down.resnets.entries()) {
      h = await res(r, h, false);
      const a = down.attentions[j];
      if (a) h = await transformer(be, arch, a, h, contexts, regional, kvCache);
      skips.push(h);
      await between();
    }
    if (down.downsample) {
      h = await be.conv2d(h, w(`${down.downsample.prefix}.weight`), w(`${down.downsample.prefix}.bias`), { stride: 2, padding: 1 });
      skips.push(h);
      await between();
    }
  }

  // 3. mid block (its input is also the last skip, so the first resnet must not consume it)
  h = await res(arch.mid.resnets[0], h, false);
  if (arch.mid.attention) h = await transformer(be, arch, arch.mid.attention, h, contexts, regional, kvCache);
  h = await res(arch.mid.resnets[1], h, true);
  await between();

  // 4. up path: concat the matching skip before each resnet; upsample to the next skip's exact size
  //    (equals 2× for even sizes; diffusers passes upsample_size when a side is not divisible).
  for (const upBlock of arch.up) {
    for (const [j, r] of upBlock.resnets.entries()) {
      const skip = skips.pop()!;
      const cat = await be.concatChannels(h, skip);
      be.release(h, skip);
      h = await res(r, cat, true);
      const a = upBlock.attentions[j];
      if (a) h = await transformer(be, arch, a, h, contexts, regional, kvCache);
      await between();
    }
    if (upBlock.upsample) {
      const next = skips[skips.length - 1]!;
      const up = await be.upsampleNearest(h, next.shape[2]!, next.shape[3]!);
      be.release(h);
      h = await be.conv2d(up, w(`${upBlock.upsample.prefix}.weight`), w(`${upBlock.upsample.prefix}.bias`), { stride: 1, padding: 1 });
      be.release(up);
      await between();
    }
  }
  be.release(embAct);
  regional?.release();

  // 5. out
  const n = await be.groupNorm(h, w('conv_norm_out.weight'), w('conv_norm_out.bias'), { groups: arch.groups, eps: arch.eps, silu: true });
  be.release(h);
  const out = await be.conv2d(n, w('conv_out.weight'), w('conv_out.bias'), { stride: 1, padding: 1 });
  be.release(n);
  return out;
}

/** TimestepEmbedding: linear_1 → SiLU → linear_2. */
export async function mlp<T extends TensorRef>(be: UNetBackend<T>, prefix: string, x: T): Promise<T> {
  const a = await be.linear(x, be.weight(`${prefix}.linear_1.weight`), be.weight(`${prefix}.linear_1.bias`));
  const s = await be.silu(a);
  be.release(a);
  const out = await be.linear(s, be.weight(`${prefix}.linear_2.weight`), be.weight(`${prefix}.linear_2.bias`));
  be.release(s);
  return out;
}

/**
 * ResnetBlock2D (time_embedding_norm "default", output_scale_factor 1):
 * out = shortcut(x) + conv2(silu(gn2(conv1(silu(gn1(x))) + time_emb_proj(silu(emb))[:, :, None, None])))
 * `consume` releases x (the forward owns it); otherwise x stays alive as a skip.
 */
export async function resnet<T extends TensorRef>(be: UNetBackend<T>, arch: UNetArch, r: ResnetArch, x: T, embAct: T, consume: boolean): Promise<T> {
  const w = (n: string) => be.weight(`${r.prefix}.${n}`);
  const g = { groups: arch.groups, eps: arch.eps, silu: true };
  const a = await be.groupNorm(x, w('norm1.weight'), w('norm1.bias'), g);
  const c1 = await be.conv2d(a, w('conv1.weight'), w('conv1.bias'), { stride: 1, padding: 1 });
  be.release(a);
  const t = await be.linear(embAct, w('time_emb_proj.weight'), w('time_emb_proj.bias'));
  const t4 = be.reshape(t, [t.shape[0]!, t.shape[1]!, 1, 1]);
  const c1t = await be.add(c1, t4);
  be.release(c1, t);
  const b = await be.groupNorm(c1t, w('norm2.weight'), w('norm2.bias'), g);
  be.release(c1t);
  const shortcut = r.shortcut ? await be.conv2d(x, w('conv_shortcut.weight'), w('conv_shortcut.bias'), { stride: 1, padding: 0 }) : x;
  const out = await be.conv2d(b, w('conv2.weight'), w('conv2.bias'), { stride: 1, padding: 1, residual: shortcut });
  be.release(b);
  if (r.shortcut) be.release(shortcut);
  if (consume) be.release(x);
  return out;
}

/** Transformer2DModel: GN → proj_in → BasicTransformerBlock × depth → proj_out → + x. Consumes x. */
export async function transformer<T extends TensorRef>(
  be: UNetBackend<T>,
  arch: UNetArch,
  t: TransformerArch,
  x: T,
  ctx: T | ContextSource<T>,
  regional?: RegionalSource<T>,
  kvCache?: CrossAttentionKvCache<T>,
): Promise<T> {
  const contexts: ContextSource<T> = 'next' in ctx ? ctx : { next: () => ctx };
  const w = (n: string) => be.weight(`${t.prefix}.${n}`);
  const [, , H, W] = x.shape as [number, number, number, number];
  const n = await be.groupNorm(x, w('norm.weight'), w('norm.bias'), { groups: arch.groups, eps: TRANSFORMER_NORM_EPS, silu: false });
  let h: T;
  if (t.linearProjection) {
    const tok = await be.toTokens(n);
    be.release(n);
    h = await be.linear(tok, w('proj_in.weight'), w('proj_in.bias'));
    be.release(tok);
  } else {
    const p = await be.conv2d(n, w('proj_in.weight'), w('proj_in.bias'), { stride: 1, padding: 0 });
    be.release(n);
    h = await be.toTokens(p);
    be.release(p);
  }
  for (let d = 0; d < t.depth; d++) {
    const p = `${t.prefix}.transformer_blocks.${d}`;
    const layer = regional ? await regional.next(H, W, p) : undefined;
    h = await block(be, p, [h, contexts.next()], ([hi, c]) => basicBlock(be, p, t, hi!, c!, layer, kvCache));
    if (layer) regional!.done(layer);
  }
  let out: T;
  if (t.linearProjection) {
    const p = await be.linear(h, w('proj_out.weight'), w('proj_out.bias'));
    be.release(h);
    // tokens → NCHW with the block's input added in the same pass (the residual as an epilogue)
    out = await be.fromTokens(p, H, W, x);
    be.release(p);
  } else {
    const img = await be.fromTokens(h, H, W);
    be.release(h);
    out = await be.conv2d(img, w('proj_out.weight'), w('proj_out.bias'), { stride: 1, padding: 0, residual: x });
    be.release(img);
  }
  be.release(x);
  return out;
}

/** diffusers Attention: to_out.0(attention(to_q(x), to_k(kv), to_v(kv))) (+ residual). */
export async function attentionModule<T extends TensorRef>(be: UNetBackend<T>, p: string, heads: number, x: T, kv: T, residual?: T): Promise<T> {
  const w = (n: string) => be.weight(`${p}.${n}`);
  const q = await be.linear(x, w('to_q.weight'), null);
  const k = await be.linear(kv, w('to_k.weight'), null);
  const v = await be.linear(kv, w('to_v.weight'), null);
  const a = await be.attention(q, k, v, heads);
  be.release(q, k, v);
  const o = await be.linear(a, w('to_out.0.weight'), w('to_out.0.bias'), residual);
  be.release(a);
  return o;
}

/**
 * The largest activation the feed-forward may make in one tensor: every binding stays at or under
 * 128 MiB, the limit every WebGPU device guarantees (DESIGN.md, "Testing"). SDXL's 64×64-level GEGLU
 * projection [2, 4096, 5120] is 160 MiB in f32 (the path of devices without shader-f16).
 */
export const FF_MAX_ACTIVATION_BYTES = 128 * 2 ** 20;

/**
 * FeedForward with GEGLU: net.2(geglu(net.0.proj(x))) (+ residual). The feed-forward acts on each token
 * alone, so when its projection would exceed FF_MAX_ACTIVATION_BYTES the token rows go through in
 * chunks (as diffusers' `_chunked_feed_forward` does along the sequence) and the outputs are joined.
 */
export async function feedForward<T extends TensorRef>(be: UNetBackend<T>, p: string, x: T, residual?: T, maxBytes = FF_MAX_ACTIVATION_BYTES): Promise<T> {
  const inF = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / inF;
  const projOut = be.weight(`${p}.net.0.proj.weight`).shape[0]!;
  const bytes = rows * projOut * (x.dtype === 'f16' ? 2 : 4);
  if (bytes <= maxBytes || !be.sliceRows || !be.concatBatch) return feedForwardWhole(be, p, x, residual);
  // Chunks of a multiple of 64 rows: any row width then starts each chunk 256-byte aligned.
  const chunkRows = Math.ceil(Math.ceil(rows / Math.ceil(bytes / maxBytes)) / 64) * 64;
  const x2 = be.reshape(x, [rows, inF]);
  const r2 = residual ? be.reshape(residual, [rows, residual.shape[residual.shape.length - 1]!]) : undefined;
  const parts: T[] = [];
  try {
    for (let r0 = 0; r0 < rows; r0 += chunkRows) {
      const n = Math.min(chunkRows, rows - r0);
      const xc = await be.sliceRows(x2, r0, n);
      const rc = r2 ? await be.sliceRows(r2, r0, n) : undefined;
      parts.push(await feedForwardWhole(be, p, xc, rc));
      be.release(xc, ...(rc ? [rc] : []));
    }
    const out = await be.concatBatch(parts);
    return be.reshape(out, [...x.shape.slice(0, -1), out.shape[1]!]);
  } finally {
    be.release(...parts);
  }
}

async function feedForwardWhole<T extends TensorRef>(be: UNetBackend<T>, p: string, x: T, residual?: T): Promise<T> {
  const proj = await be.linear(x, be.weight(`${p}.net.0.proj.weight`), be.weight(`${p}.net.0.proj.bias`));
  const g = await be.geglu(proj);
  be.release(proj);
  const out = await be.linear(g, be.weight(`${p}.net.2.weight`), be.weight(`${p}.net.2.bias`), residual);
  be.release(g);
  return out;
}

/**
 * BasicTransformerBlock: h += attn1(norm1 h); h += attn2(norm2 h, ctx); h += ff(norm3 h). Consumes h.
 * With `regional`, attn2 is regional cross-attention (its prompts include the global one: ctx is unused);
 * with `kvCache`, attn2 reads its K/V from the run's cache (cross-attention.ts, regional-forward.ts).
 */
export async function basicBlock<T extends TensorRef>(
  be: UNetBackend<T>,
  p: string,
  t: Pick<TransformerArch, 'heads'>,
  h: T,
  ctx: T,
  regional?: RegionalLayer<T>,
  kvCache?: CrossAttentionKvCache<T>,
): Promise<T> {
  const w = (n: string) => be.weight(`${p}.${n}`);
  const n1 = await be.layerNorm(h, w('norm1.weight'), w('norm1.bias'), LAYER_NORM_EPS);
  const h1 = await selfAttentionModule(be, `${p}.attn1`, t.heads, n1, h);
  be.release(n1, h);
  const n2 = await be.layerNorm(h1, w('norm2.weight'), w('norm2.bias'), LAYER_NORM_EPS);
  const h2 = regional
    ? await regionalAttentionModule(be, `${p}.attn2`, t.heads, n2, regional, h1, kvCache)
    : kvCache
      ? await crossAttentionModule(be, `${p}.attn2`, t.heads, n2, ctx, kvCache, h1)
      : await attentionModule(be, `${p}.attn2`, t.heads, n2, ctx, h1);
  be.release(n2, h1);
  const n3 = await be.layerNorm(h2, w('norm3.weight'), w('norm3.bias'), LAYER_NORM_EPS);
  const out = await feedForward(be, `${p}.ff`, n3, h2);
  be.release(n3, h2);
  return out;
}
