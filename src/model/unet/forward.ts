/**
 * The UNet2DConditionModel forward pass (diffusers 0.25 `UNet2DConditionModel.forward`), written once
 * over a UNetBackend. SDXL (text_time addition embedding) and SD-1.5 come from the same blocks.
 */
import type { ResnetArch, TransformerArch, UNetArch } from './arch';
import type { TensorRef, UNetBackend } from './backend';

export interface UNetInputs<T> {
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

/**
 * Per-region conditioning for regional cross-attention (src/cidm/regional builds it; ops/regional-attention
 * defines the combination). U regions; the global prompt stays in encoderHiddenStates.
 */
export interface RegionalInputs<T> {
  /** Region text states [B, U, 77, crossDim]: batch element b's embedding of region u's prompt. */
  embeds: T;
  /** f32 soft masks [1 or B, U, h·w] for every grid a transformer runs at, keyed regionalMaskKey(h, w). */
  masks: ReadonlyMap<string, T>;
  /** f32 [B, U]: 1 where batch element b uses region u, 0 where it does not. */
  active: T;
}

/** Concept-aware regions: the masks and activity as above, the prompts per layer with their own EWA weights. */
export interface ConceptRegionalInputs<T> extends Omit<RegionalInputs<T>, 'embeds'> {
  concepts: RegionalConcepts<T>;
}

/**
 * Concept-aware regions (CIDM spec §4.3 last bullet, §3.2; issue 11 point 5). Prompt p = 0 is the global
 * prompt, p = 1..U the regions; each has its own layer-wise states and its own EWA weights w_p^l, and
 * attn2 of layer l applies W0 + s·Σ_i w_{p,i}^l·U_i·D_i to prompt p's part of the computation:
 *   K_p, V_p  from prompt p's layer-l text with prompt p's weights (exact: these rows are prompt p's);
 *   Q_p       per prompt (x·W_q,pᵀ): prompt p's attention in a cell uses its own query projection,
 *             so the kernel reads one q per prompt (exact);
 *   to_out    per cell with the weights mixed by the kernel's own combination coefficients c_p(cell)
 *             (c_0 = 1 − min(1, Σ w_u), c_u = w_u / max(1, Σ w_u)): W_o(cell) = Σ_p c_p·W_o,p. Exact
 *             wherever one prompt owns the cell (outside every region, or inside one binary region);
 *             at soft edges and overlaps it mixes weights instead of per-prompt outputs, which would need
 *             1 + U attention outputs kept apart.
 * All three use the packed, unfolded LoRAs (ops/lora.ts lowRankDelta) with per-prompt column scales:
 * no per-region copy of any attn2 weight (SDXL's are ~0.5 G parameters). A prompt that names no
 * concept has scale 0: the base weights, so a concept's LoRA acts only where its prompt's attention
 * does — c_p = 0 outside region p, hence A's LoRA leaves every cell outside region A unchanged.
 */
export interface RegionalConcepts<T> {
  /** Per batch element: true where it is the unconditional pass (reads `negative`), else `positive`. */
  negativePass: readonly boolean[];
  /** [1 + U, 77, crossDim]: the global negative, then each region's (not layer-wise, spec §1.4); null if no pass reads it. */
  negative: T | null;
  /** Per cross-attention layer (traversal order): [1 + U, 77, crossDim], the prompts' layer-l states. */
  positive: readonly T[];
  /** Per layer: [1 + U, 1, R], prompt p's scale s·w_{p,i}^l on each packed LoRA column (0: base weights). */
  scales: readonly T[];
  /** Per layer: the same transposed, [R, 1 + U] (to_out's per-cell mix). */
  scalesT: readonly T[];
  /** Per grid (regionalMaskKey): [B, h·w, 1 + U], c_p of every cell (the kernel's combination weights). */
  coefficients: ReadonlyMap<string, T>;
  /** The packed LoRAs (down [R, in], up [out, R], unscaled) by the attn2 weight they adapt (…to_q.weight). */
  adapters: ReadonlyMap<string, { down: T; up: T }>;
}

/** What one attn2 layer needs: all prompts' text states, this layer's masks and the activity. */
export interface RegionalLayer<T> {
  /** [B, 1 + U, 77, crossDim]: the global prompt's states, then each region's (regionalPrompts). */
  prompts: T;
  masks: T;
  active: T;
  /** Concept-aware regions: this layer's per-prompt EWA scales, the grid's coefficients, the LoRAs. */
  lora?: { scales: T; scalesT: T; coefficients: T; adapters: RegionalConcepts<T>['adapters'] };
}

/** The global and region text states stacked once per forward as [B, 1 + U, 77, crossDim]. */
export async function regionalPrompts<T extends TensorRef>(be: UNetBackend<T>, ehs: T, r: RegionalInputs<T>): Promise<T> {
  const [B, Tk, Cc] = ehs.shape as [number, number, number];
  const [rb, , rt, rc] = r.embeds.shape as [number, number, number, number];
  if (rb !== B || rt !== Tk || rc !== Cc) throw new RangeError(`regional: region embeds [${r.embeds.shape}] do not match the text states [${ehs.shape}]`);
  return be.concatChannels(be.reshape(ehs, [B, 1, Tk, Cc]), r.embeds);
}

/**
 * Hands out each attn2's RegionalLayer in traversal order. Plain regions: the prompts stacked once per
 * forward, shared by every layer. Concept-aware: layer l's prompts [B, 1 + U, 77, C] stacked from the
 * per-layer states for this layer only (released after it), with layer l's scales.
 */
export interface RegionalSource<T> {
  next(H: number, W: number, where: string): Promise<RegionalLayer<T>>;
  done(layer: RegionalLayer<T>): void;
  release(): void;
}

export async function regionalSource<T extends TensorRef>(be: UNetBackend<T>, ehs: T, r: RegionalInputs<T> | ConceptRegionalInputs<T>): Promise<RegionalSource<T>> {
  const masksFor = (H: number, W: number, where: string) => {
    const m = r.masks.get(regionalMaskKey(H, W));
    if (!m) throw new RangeError(`regional attention: no masks for the ${H}×${W} grid of ${where}`);
    return m;
  };
  if (!('concepts' in r)) {
    const prompts = await regionalPrompts(be, ehs, r);
    return { next: async (H, W, where) => ({ prompts, masks: masksFor(H, W, where), active: r.active }), done: () => {}, release: () => be.release(prompts) };
  }
  const c = r.concepts;
  if (!be.lowRank || !be.concatBatch) throw new TypeError('concept-aware regions need a backend with lowRank and concatBatch (the GPU or planning backend)');
  const B = ehs.shape[0]!;
  if (c.negativePass.length !== B) throw new RangeError(`concept-aware regions: ${c.negativePass.length} pass kinds for batch ${B}`);
  if (c.scales.length !== c.positive.length || c.scalesT.length !== c.positive.length) throw new RangeError('concept-aware regions: per-layer states and scales differ in length');
  let l = 0;
  /** The stacked prompts this source made and has not released yet. */
  const owned = new Set<RegionalLayer<T>>();
  return {
    async next(H, W, where) {
      const pos = c.positive[l];
      if (!pos) throw new RangeError(`concept-aware regions: states for ${c.positive.length} layers, the UNet has more (${where})`);
      const parts = c.negativePass.map((neg) => {
        if (neg && !c.negative) throw new RangeError('concept-aware regions: an unconditional pass without negative states');
        return neg ? c.negative! : pos;
      });
      const [P, Tk, Cc] = pos.shape as [number, number, number];
      const stacked = parts.length === 1 ? parts[0]! : await be.concatBatch!(parts);
      const coefficients = c.coefficients.get(regionalMaskKey(H, W));
      if (!coefficients) throw new RangeError(`concept-aware regions: no coefficients for the ${H}×${W} grid of ${where}`);
      const layer: RegionalLayer<T> = {
        prompts: be.reshape(stacked, [B, P, Tk, Cc]),
        masks: masksFor(H, W, where),
        active: r.active,
        lora: { scales: c.scales[l]!, scalesT: c.scalesT[l]!, coefficients, adapters: c.adapters },
      };
      l++;
      // a single part is the caller's tensor (B = 1): not ours to release
      if (parts.length > 1) owned.add(layer);
      return layer;
    },
    done(layer) {
      if (owned.delete(layer)) be.release(layer.prompts);
    },
    release() {
      for (const layer of owned) be.release(layer.prompts);
      owned.clear();
    },
  };
}

export function regionalMaskKey(h: number, w: number): string {
  return `${h}x${w}`;
}

/** Transformer2DModel GroupNorm uses eps 1e-6 in diffusers regardless of norm_eps. */
const TRANSFORMER_NORM_EPS = 1e-6;
const LAYER_NORM_EPS = 1e-5;

export async function unetForward<T extends TensorRef>(be: UNetBackend<T>, arch: UNetArch, inp: UNetInputs<T>): Promise<T> {
  const B = inp.sample.shape[0]!;
  if (inp.timesteps.length !== B) throw new RangeError(`${inp.timesteps.length} timesteps for batch ${B}`);
  const w = (n: string) => be.weight(n);

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
  for (const down of arch.down) {
    for (const [j, r] of down.resnets.entries()) {
      h = await res(r, h, false);
      const a = down.attentions[j];
      if (a) h = await transformer(be, arch, a, h, contexts, regional);
      skips.push(h);
    }
    if (down.downsample) {
      h = await be.conv2d(h, w(`${down.downsample.prefix}.weight`), w(`${down.downsample.prefix}.bias`), { stride: 2, padding: 1 });
      skips.push(h);
    }
  }

  // 3. mid block (its input is also the last skip, so the first resnet must not consume it)
  h = await res(arch.mid.resnets[0], h, false);
  if (arch.mid.attention) h = await transformer(be, arch, arch.mid.attention, h, contexts, regional);
  h = await res(arch.mid.resnets[1], h, true);

  // 4. up path: concat the matching skip before each resnet; upsample to the next skip's exact size
  //    (equals 2× for even sizes; diffusers passes upsample_size when a side is not divisible).
  for (const upBlock of arch.up) {
    for (const [j, r] of upBlock.resnets.entries()) {
      const skip = skips.pop()!;
      const cat = await be.concatChannels(h, skip);
      be.release(h, skip);
      h = await res(r, cat, true);
      const a = upBlock.attentions[j];
      if (a) h = await transformer(be, arch, a, h, contexts, regional);
    }
    if (upBlock.upsample) {
      const next = skips[skips.length - 1]!;
      const up = await be.upsampleNearest(h, next.shape[2]!, next.shape[3]!);
      be.release(h);
      h = await be.conv2d(up, w(`${upBlock.upsample.prefix}.weight`), w(`${upBlock.upsample.prefix}.bias`), { stride: 1, padding: 1 });
      be.release(up);
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
    h = await block(be, p, [h, contexts.next()], ([hi, c]) => basicBlock(be, p, t, hi!, c!, layer));
    if (layer) regional!.done(layer);
  }
  let out: T;
  if (t.linearProjection) {
    const p = await be.linear(h, w('proj_out.weight'), w('proj_out.bias'));
    be.release(h);
    out = await be.fromTokens(p, H, W);
    be.release(p);
    const sum = await be.add(out, x);
    be.release(out);
    out = sum;
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
 * attn2 with CIDM regional cross-attention (spec §4.2): the same to_q/to_k/to_v/to_out weights; all
 * prompts' states [B, 1 + U, 77, Cc] (global first) go through to_k/to_v as one [B·(1+U), 77, Cc]
 * batch, and the regional kernel combines their attention outputs before to_out. With `r.lora`
 * (concept-aware regions) each prompt's q/k/v and each cell's to_out get their own EWA term
 * (RegionalConcepts says how and why).
 */
export async function regionalAttentionModule<T extends TensorRef>(be: UNetBackend<T>, p: string, heads: number, x: T, r: RegionalLayer<T>, residual?: T): Promise<T> {
  if (r.lora) return conceptRegionalAttention(be, p, heads, x, r, r.lora, residual);
  const w = (n: string) => be.weight(`${p}.${n}`);
  const [B, P, Tk, Cc] = r.prompts.shape as [number, number, number, number];
  const q = await be.linear(x, w('to_q.weight'), null);
  const flat = be.reshape(r.prompts, [B * P, Tk, Cc]);
  const k = await be.linear(flat, w('to_k.weight'), null);
  const v = await be.linear(flat, w('to_v.weight'), null);
  const C = k.shape[2]!;
  const a = await be.regionalAttention(q, be.reshape(k, [B, P, Tk, C]), be.reshape(v, [B, P, Tk, C]), r.masks, r.active, heads);
  be.release(q, k, v);
  const o = await be.linear(a, w('to_out.0.weight'), w('to_out.0.bias'), residual);
  be.release(a);
  return o;
}

/** Concept-aware regional attn2: per-prompt Q/K/V and per-cell to_out with low-rank EWA terms. */
async function conceptRegionalAttention<T extends TensorRef>(
  be: UNetBackend<T>, p: string, heads: number, x: T, r: RegionalLayer<T>, lora: NonNullable<RegionalLayer<T>['lora']>, residual?: T,
): Promise<T> {
  const lowRank = be.lowRank?.bind(be);
  if (!lowRank) throw new TypeError('concept-aware regions need a backend with lowRank');
  const w = (n: string) => be.weight(`${p}.${n}`);
  const adapter = (n: string) => {
    const a = lora.adapters.get(`${p}.${n}.weight`);
    if (!a) throw new RangeError(`concept-aware regions: no LoRA for ${p}.${n}`);
    return a;
  };
  /** base + the per-prompt (or per-cell) low-rank term of projection n on input `inp` (result shape = the term's). */
  const adapted = async (n: string, base: T, inp: T, scale: T, baseView: readonly number[]) => {
    const a = adapter(n);
    const d = await lowRank(inp, a.down, a.up, scale);
    const y = await be.add(d, be.reshape(base, baseView));
    be.release(d, base);
    return y;
  };
  const [B, P, Tk, Cc] = r.prompts.shape as [number, number, number, number];
  const [, Tq, Cx] = x.shape as [number, number, number];
  // Q_p = x·W_qᵀ + x·(s·w_p ⊙ ΔW_q)ᵀ for every prompt: [B, P, Tq, C]
  const q0 = await be.linear(x, w('to_q.weight'), null);
  const C = q0.shape[2]!;
  const q = await adapted('to_q', q0, be.reshape(x, [B, 1, Tq, Cx]), lora.scales, [B, 1, Tq, C]);
  // K_p, V_p from prompt p's text with prompt p's weights: [B, P, Tk, C]
  const flat = be.reshape(r.prompts, [B * P, Tk, Cc]);
  const k = await adapted('to_k', await be.linear(flat, w('to_k.weight'), null), r.prompts, lora.scales, [B, P, Tk, C]);
  const v = await adapted('to_v', await be.linear(flat, w('to_v.weight'), null), r.prompts, lora.scales, [B, P, Tk, C]);
  const a = await be.regionalAttention(q, k, v, r.masks, r.active, heads);
  be.release(q, k, v);
  // to_out per cell: the column scales mixed by the cell's coefficients, g = c·scalesᵀ [B, Tq, R]
  const g = await be.linear(lora.coefficients, lora.scalesT, null);
  const o0 = await be.linear(a, w('to_out.0.weight'), w('to_out.0.bias'), residual);
  const o = await adapted('to_out.0', o0, a, g, [B, Tq, C]);
  be.release(a, g);
  return o;
}

/** FeedForward with GEGLU: net.2(geglu(net.0.proj(x))) (+ residual). */
export async function feedForward<T extends TensorRef>(be: UNetBackend<T>, p: string, x: T, residual?: T): Promise<T> {
  const proj = await be.linear(x, be.weight(`${p}.net.0.proj.weight`), be.weight(`${p}.net.0.proj.bias`));
  const g = await be.geglu(proj);
  be.release(proj);
  const out = await be.linear(g, be.weight(`${p}.net.2.weight`), be.weight(`${p}.net.2.bias`), residual);
  be.release(g);
  return out;
}

/**
 * BasicTransformerBlock: h += attn1(norm1 h); h += attn2(norm2 h, ctx); h += ff(norm3 h). Consumes h.
 * With `regional`, attn2 is regional cross-attention (its prompts include the global one: ctx is unused).
 */
export async function basicBlock<T extends TensorRef>(
  be: UNetBackend<T>,
  p: string,
  t: Pick<TransformerArch, 'heads'>,
  h: T,
  ctx: T,
  regional?: RegionalLayer<T>,
): Promise<T> {
  const w = (n: string) => be.weight(`${p}.${n}`);
  const n1 = await be.layerNorm(h, w('norm1.weight'), w('norm1.bias'), LAYER_NORM_EPS);
  const h1 = await attentionModule(be, `${p}.attn1`, t.heads, n1, n1, h);
  be.release(n1, h);
  const n2 = await be.layerNorm(h1, w('norm2.weight'), w('norm2.bias'), LAYER_NORM_EPS);
  const h2 = regional
    ? await regionalAttentionModule(be, `${p}.attn2`, t.heads, n2, regional, h1)
    : await attentionModule(be, `${p}.attn2`, t.heads, n2, ctx, h1);
  be.release(n2, h1);
  const n3 = await be.layerNorm(h2, w('norm3.weight'), w('norm3.bias'), LAYER_NORM_EPS);
  const out = await feedForward(be, `${p}.ff`, n3, h2);
  be.release(n3, h2);
  return out;
}
