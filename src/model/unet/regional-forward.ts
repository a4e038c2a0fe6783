/**
 * CIDM regional cross-attention in the UNet (spec §4.2): the per-region conditioning the forward
 * takes (plain and concept-aware), how it is stacked per layer, and the attn2 module that runs it.
 * Split from forward.ts, which re-exports it, so the UNet file stays about the network.
 */
import type { TensorRef, UNetBackend } from './backend';
import type { CrossAttentionKvCache } from './cross-attention-kv-cache';

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
  /**
   * Plain regions: the tensors `prompts` is stacked from (the global states, the region embeds), by which
   * the run's attn2 K/V cache recognises the same prompts on a later step (cross-attention-kv-cache.ts).
   */
  kvSource?: readonly T[];
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
    const kvSource = [ehs, r.embeds];
    return { next: async (H, W, where) => ({ prompts, masks: masksFor(H, W, where), active: r.active, kvSource }), done: () => {}, release: () => be.release(prompts) };
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

/**
 * attn2 with CIDM regional cross-attention (spec §4.2): the same to_q/to_k/to_v/to_out weights; all
 * prompts' states [B, 1 + U, 77, Cc] (global first) go through to_k/to_v as one [B·(1+U), 77, Cc]
 * batch, and the regional kernel combines their attention outputs before to_out. With `r.lora`
 * (concept-aware regions) each prompt's q/k/v and each cell's to_out get their own EWA term
 * (RegionalConcepts says how and why). With `kvCache`, plain regions project K/V on the run's first step
 * and read them from the cache after (keyed by r.kvSource); concept-aware regions always project theirs
 * (their per-layer stacks and EWA terms are not cached).
 */
export async function regionalAttentionModule<T extends TensorRef>(
  be: UNetBackend<T>, p: string, heads: number, x: T, r: RegionalLayer<T>, residual?: T, kvCache?: CrossAttentionKvCache<T>,
): Promise<T> {
  if (r.lora) return conceptRegionalAttention(be, p, heads, x, r, r.lora, residual);
  const w = (n: string) => be.weight(`${p}.${n}`);
  const [B, P, Tk, Cc] = r.prompts.shape as [number, number, number, number];
  const q = await be.linear(x, w('to_q.weight'), null);
  const flat = be.reshape(r.prompts, [B * P, Tk, Cc]);
  const toK = w('to_k.weight');
  const toV = w('to_v.weight');
  const project = async () => ({ k: await be.linear(flat, toK, null), v: await be.linear(flat, toV, null) });
  const cache = kvCache && r.kvSource ? kvCache : undefined;
  let kv;
  try {
    kv = cache ? await cache.kv(p, r.kvSource!, toK, toV, project) : await project();
  } catch (e) {
    be.release(q);
    throw e;
  }
  const { k, v } = kv;
  const C = k.shape[2]!;
  const a = await be.regionalAttention(q, be.reshape(k, [B, P, Tk, C]), be.reshape(v, [B, P, Tk, C]), r.masks, r.active, heads);
  be.release(q);
  if (!cache) be.release(k, v); // cached K/V belong to the cache until the run releases it
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
