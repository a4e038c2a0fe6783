/**
 * A concept per region (issue 11 point 5; CIDM spec §4.3 last bullet, §3.2): each prompt of a regional
 * run — the global one (p = 0) and every region's (p = 1..U) — is encoded layer-wise and weighed by EWA
 * on its own, so a concept's LoRA shapes only the attention of the prompts that name it. How attn2 applies
 * these per-prompt weights (K/V and Q per prompt, to_out per cell, all through the packed unfolded LoRAs)
 * and why is written at RegionalConcepts in src/model/unet/forward.ts.
 *
 * Decisions made here:
 *  - a prompt that names no concept gets weight 0 on every LoRA (the base weights), the global prompt
 *    included: EWA of a concept-free prompt would spread near-uniform weight over every concept
 *    (spec §4.3 last bullet), and through the global path that would leak A's LoRA outside region A;
 *  - the unconditional pass uses each prompt's same weights (spec §3.2: both CFG branches use the same
 *    merged LoRA) with the negative states, which are not layer-wise (spec §1.4);
 *  - the coefficients c_p of every cell are the regional kernel's own combination weights
 *    (ops/regional-attention.ts): to_out mixes the prompts' weights exactly as the kernel mixes their
 *    attention outputs.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType, Tensor } from '../../gpu/tensor';
import { stridedCopy } from '../../ops/strided-copy';
import type { RegionalConcepts } from '../../model/unet/forward';
import type { EwaLibrary, EwaPromptStates } from '../ewa/ewa';
import type { EwaForm } from '../ewa/weights';

/**
 * Per layer, prompt p's scale on every packed LoRA column, [P·R] prompt-major: loraScale·w_{p,i}^l
 * repeated over concept i's rank (task order, the bank's column order); 0 for a prompt with no weights.
 */
export function promptColumnScales(weights: readonly (readonly ArrayLike<number>[] | null)[], ranks: readonly number[], layers: number, loraScale: number): Float32Array[] {
  const R = ranks.reduce((a, b) => a + b, 0);
  const P = weights.length;
  return Array.from({ length: layers }, (_, l) => {
    const out = new Float32Array(P * R);
    weights.forEach((w, p) => {
      if (!w) return;
      const wl = w[l];
      if (!wl || wl.length !== ranks.length) throw new RangeError(`EWA weights of prompt ${p}: layer ${l} has ${wl?.length ?? 0} weights for ${ranks.length} concepts`);
      let col = 0;
      ranks.forEach((r, i) => {
        out.fill(loraScale * wl[i]!, p * R + col, p * R + col + r);
        col += r;
      });
    });
    return out;
  });
}

/** A row-major [rows, cols] matrix transposed. */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

/**
 * The kernel's combination weights of every cell for every pass, [passes, Tq, 1 + U]: with
 * w_u = clamp(mask_u, 0, 1)·active_u and total = Σ_u w_u, c_0 = 1 − min(1, total) (the global prompt)
 * and c_u = w_u / max(1, total). masks [U·Tq] (one grid's, masks.ts); active[b] the pass's [U] flags.
 */
export function combinationCoefficients(masks: Float32Array, active: readonly (readonly number[])[], regions: number, tq: number): Float32Array {
  if (masks.length !== regions * tq) throw new RangeError(`coefficients: ${masks.length} mask values for ${regions} regions × ${tq} cells`);
  const P = regions + 1;
  const out = new Float32Array(active.length * tq * P);
  active.forEach((act, b) => {
    for (let t = 0; t < tq; t++) {
      let total = 0;
      for (let u = 0; u < regions; u++) total += Math.min(1, Math.max(0, masks[u * tq + t]!)) * act[u]!;
      const at = (b * tq + t) * P;
      out[at] = 1 - Math.min(1, total);
      for (let u = 0; u < regions; u++) out[at + 1 + u] = (Math.min(1, Math.max(0, masks[u * tq + t]!)) * act[u]!) / Math.max(1, total);
    }
  });
  return out;
}

/** The per-run part of RegionalConcepts (everything but the per-chunk pass kinds and coefficients). */
export interface ConceptPrompts {
  negative: Tensor | null;
  positive: Tensor[];
  scales: Tensor[];
  scalesT: Tensor[];
  adapters: RegionalConcepts<Tensor>['adapters'];
  /** Per prompt (global, then regions) whether it names a concept. */
  named: boolean[];
  release(): void;
}

/**
 * Builds the per-layer states [P, T, C], the per-layer scales and the adapter map from every prompt's
 * layer-wise encoding (EwaLibrary.encodePrompt: [L or 1, T, C]) and the negative states [P·T·C] (null:
 * no unconditional pass). `encoded` stays the caller's.
 */
export async function conceptPrompts(
  ctx: GpuContext, lib: EwaLibrary, form: EwaForm, encoded: readonly EwaPromptStates[], negative: Float32Array | null, dtype: DType,
): Promise<ConceptPrompts> {
  const L = lib.layers;
  const P = encoded.length;
  const [, T, C] = encoded[0]!.states.shape as [number, number, number];
  if (lib.bank.dtype !== dtype) throw new TypeError(`concept-aware regions: the library's LoRAs are ${lib.bank.dtype}, the UNet runs ${dtype}`);
  const made: Tensor[] = [];
  try {
    const weights: (Float64Array[] | null)[] = [];
    for (const e of encoded) weights.push(e.shared ? null : await lib.weights(e.states, form));
    const positive: Tensor[] = [];
    for (let l = 0; l < L; l++) {
      const t = ctx.empty([P, T, C], dtype, `region-prompts-layer-${l}`);
      made.push(t);
      for (const [p, e] of encoded.entries()) {
        const Ls = e.states.shape[0]!;
        if (e.states.shape[1] !== T || e.states.shape[2] !== C || (Ls !== 1 && Ls !== L)) throw new RangeError(`concept-aware regions: prompt ${p}'s states are [${e.states.shape}], expected [${L} or 1, ${T}, ${C}]`);
        await stridedCopy(ctx, e.states, t, { rows: 1, cols: T * C, srcOffset: (Ls === 1 ? 0 : l) * T * C, dstOffset: p * T * C });
      }
      positive.push(t);
    }
    const R = lib.bank.totalRank;
    const cols = promptColumnScales(weights, lib.bank.ranks, L, lib.options.loraScale);
    const scales = cols.map((s, l) => ctx.upload(s, [P, 1, R], dtype, `region-ewa-scales-${l}`));
    made.push(...scales);
    const scalesT = cols.map((s, l) => ctx.upload(transpose(s, P, R), [R, P], dtype, `region-ewa-scales-t-${l}`));
    made.push(...scalesT);
    const neg = negative ? ctx.upload(negative, [P, T, C], dtype, 'region-negatives') : null;
    if (neg) made.push(neg);
    const adapters = new Map(lib.bank.packed.map((p) => [p.target.weight, { down: p.down, up: p.up }] as const));
    return { negative: neg, positive, scales, scalesT, adapters, named: encoded.map((e) => !e.shared), release: () => ctx.releaseLive(...made) };
  } catch (err) {
    ctx.releaseLive(...made);
    throw err;
  }
}
