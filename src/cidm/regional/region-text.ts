/**
 * The text side of a regional run (spec §4.1-4.3): the global prompt's and every region's text states
 * and pooled embeddings, the negatives, and — when an EWA library is given and some prompt names a
 * concept — the concept-aware per-layer states and EWA weights (concept-regions.ts).
 *
 * Negatives: a region with an empty negative prompt uses the run's global negative (the uncond row the
 * loop made: its encoding, or zeros under force_zeros_for_empty_prompt when that is empty too), so the
 * negative written once for the whole scene reaches every region's unconditional attention.
 */
import type { Tensor } from '../../gpu/tensor';
import type { SdxlPipelineParts } from '../../diffusion/text-to-image';
import type { EwaPromptStates } from '../ewa/ewa';
import { crossAttentionLayers } from '../train/layers';
import { conceptPrompts, type ConceptPrompts } from './concept-regions';
import type { RegionPrompt, RegionalEwa } from './regional-step';

export interface RegionText {
  /** Per token row [T·C] and per pooled [P] (CPU copies). */
  globalCond: Float32Array;
  globalPooled: Float32Array;
  /** The global negative's (null when unguided). */
  globalNeg: Float32Array | null;
  globalNegPooled: Float32Array | null;
  /** Per region: its negative states (null when unguided). */
  negatives: Float32Array[] | null;
  /** Per region: its prompt's states (plain mode; empty in concept mode, whose states are per layer). */
  positives: Float32Array[];
  /** Per region: its prompt's pooled embedding. */
  pooled: Float32Array[];
  /** Concept-aware inputs, or null when no prompt names a concept (or no library was given). */
  concepts: ConceptPrompts | null;
  tokens: number;
  channels: number;
}

/** Row i of a [rows, n] array. */
const row = (a: Float32Array, i: number, n: number) => a.slice(i * n, (i + 1) * n);

/**
 * Reads the loop's global conditioning (`global`: [uncond, cond] or [cond] alone when the loop ran
 * unguided) and encodes what the regions need. `guided` says whether the uncond pass runs.
 */
export async function regionText(
  parts: SdxlPipelineParts, prompt: string | undefined, regions: readonly RegionPrompt[], global: { ehs: Tensor; pooled: Tensor }, guided: boolean, ewa?: RegionalEwa,
): Promise<RegionText> {
  const { ctx } = parts;
  const [rows, T, C] = global.ehs.shape as [number, number, number];
  if (rows !== 1 && rows !== 2) throw new RangeError(`regional step: the global conditioning has ${rows} rows, expected [uncond, cond] or [cond]`);
  if (guided && rows !== 2) throw new RangeError('regional step: guided, but the loop gave no unconditional conditioning');
  const P = global.pooled.shape[1]!;
  const ehs = await ctx.read(global.ehs);
  const pooledAll = await ctx.read(global.pooled);
  const out: RegionText = {
    globalCond: row(ehs, rows - 1, T * C),
    globalPooled: row(pooledAll, rows - 1, P),
    globalNeg: guided ? row(ehs, 0, T * C) : null,
    globalNegPooled: guided ? row(pooledAll, 0, P) : null,
    negatives: null,
    positives: [],
    pooled: [],
    concepts: null,
    tokens: T,
    channels: C,
  };
  const cache = new Map<string, { embeds: Float32Array; pooled: Float32Array }>();
  const encode = async (s: string) => {
    let e = cache.get(s);
    if (!e) {
      const r = await parts.encodePrompt(s);
      e = { embeds: await ctx.read(r.embeds), pooled: await ctx.read(r.pooled) };
      ctx.release(r.embeds, r.pooled);
      cache.set(s, e);
    }
    return e;
  };
  if (guided) out.negatives = await Promise.all(regions.map(async (r) => (r.negativePrompt === '' ? out.globalNeg! : (await encode(r.negativePrompt)).embeds)));

  if (ewa) {
    if (prompt === undefined) throw new RangeError('regional synthesis with concepts needs the global prompt (RegionalParams.prompt)');
    const layers = crossAttentionLayers(parts.unetArch).length;
    if (ewa.library.layers !== layers) throw new RangeError(`concept-aware regions: the library has ${ewa.library.layers} cross-attention layers, the UNet ${layers}`);
    const encoded: EwaPromptStates[] = [];
    try {
      for (const s of [prompt, ...regions.map((r) => r.prompt)]) encoded.push(await ewa.library.encodePrompt(s));
      if (encoded.some((e) => !e.shared)) {
        const c = encoded[0]!.states.shape[2];
        if (c !== C) throw new RangeError(`concept-aware regions: the library's text states have ${c} channels, the UNet's ${C}`);
        const negative = out.negatives ? concatRows([out.globalNeg!, ...out.negatives]) : null;
        // every positive prompt's pooled from the same encoding as its states (the global's only if it names a concept)
        const pooled = await Promise.all(encoded.map((e) => (e.pooled ? ctx.read(e.pooled) : null)));
        out.concepts = await conceptPrompts(ctx, ewa.library, ewa.form, encoded, negative, parts.dtype);
        if (out.concepts.named[0] && pooled[0]) out.globalPooled = pooled[0];
        out.pooled = pooled.slice(1).map((x) => x ?? out.globalPooled);
        return out;
      }
    } finally {
      for (const e of encoded) ctx.releaseLive(e.states, ...(e.pooled ? [e.pooled] : []));
    }
  }
  for (const r of regions) {
    const e = await encode(r.prompt);
    out.positives.push(e.embeds);
    out.pooled.push(e.pooled);
  }
  return out;
}

function concatRows(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
