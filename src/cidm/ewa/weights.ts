/**
 * Elastic weight aggregation's weights for one cross-attention layer l (spec §3, §9.2), in plain TS
 * (f64). Both forms start from the same numbers: the raw dot products between the concept prompt's
 * layer-l states at the words' positions (rows j, spec §3.2 step 2) and the user prompt's layer-l
 * states at all its positions (rows k, BOS/EOS/padding included as in the code), plus each row's
 * squared norm. The GPU computes exactly these (similarity.ts); the references below also compute them
 * from the states themselves.
 *
 *  code (default; inference.py + edlora.py:178-271, spec §3.2 step 3):
 *    S[j,k] = ê_j·ĉ_k / (‖ê_j‖‖ĉ_k‖)        (cosine: both sides row-wise L2-normalised)
 *    m_j    = max_k S[j,k]                   (over all prompt positions)
 *    s_i    = mean of m_j over task i's words (similarities averaged AFTER the max)
 *    w_i    = s_i⁴ / Σ s⁴                    (sums to 1)
 *  paper (Eq. 3, spec §3.1):
 *    ē_i    = mean of task i's rows          (task-mean embeddings)
 *    M_i    = max_k ĉ_k·ē_i                  (raw dot product) = max_k mean_{j∈i} ê_j·ĉ_k (linear)
 *    ψ_i    = M_i² / ‖M²‖₂                   (sums to between 1 and √g)
 *
 * SDXL rows are the 2048-d concatenation cat(te1, te2) of hidden_states[-2], what cross-attention reads;
 * SD-1.5 rows the single encoder's states.
 */
import type { TaskSpan } from './token-table';

export type EwaForm = 'code' | 'paper';

/** Dot products of one layer: J concept-word rows against K prompt rows. */
export interface LayerSimilarity {
  words: number;
  tokens: number;
  /** [J, K] row-major: ê_j · ĉ_k */
  dots: ArrayLike<number>;
  /** [J]: ‖ê_j‖² */
  wordSq: ArrayLike<number>;
  /** [K]: ‖ĉ_k‖² */
  tokenSq: ArrayLike<number>;
}

/** torch.nn.functional.normalize's floor on a norm: a zero row stays zero instead of becoming NaN. */
const NORM_EPS = 1e-12;

/** The dot products and squared norms of J rows against K rows of width C (f64). */
export function layerSimilarity(wordRows: ArrayLike<number>, J: number, tokenRows: ArrayLike<number>, K: number, C: number): LayerSimilarity {
  if (wordRows.length < J * C || tokenRows.length < K * C) throw new RangeError(`EWA similarity: ${wordRows.length} / ${tokenRows.length} values for [${J}, ${C}] / [${K}, ${C}]`);
  const dots = new Float64Array(J * K);
  const wordSq = new Float64Array(J);
  const tokenSq = new Float64Array(K);
  const sq = (x: ArrayLike<number>, r: number) => {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[r * C + c]! ** 2;
    return s;
  };
  for (let j = 0; j < J; j++) wordSq[j] = sq(wordRows, j);
  for (let k = 0; k < K; k++) tokenSq[k] = sq(tokenRows, k);
  for (let j = 0; j < J; j++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += wordRows[j * C + c]! * tokenRows[k * C + c]!;
      dots[j * K + k] = s;
    }
  }
  return { words: J, tokens: K, dots, wordSq, tokenSq };
}

function checkSpans(sim: LayerSimilarity, spans: readonly TaskSpan[]): void {
  if (!spans.length) throw new RangeError('EWA: no tasks');
  for (const s of spans) {
    if (s.count < 1 || s.start < 0 || s.start + s.count > sim.words) throw new RangeError(`EWA: task words ${s.start}..${s.start + s.count - 1} outside the ${sim.words} concept-word rows`);
  }
  if (sim.tokens < 1) throw new RangeError('EWA: the prompt has no rows');
}

/** Divides by the sum (code) or the L2 norm (paper); all-zero scores give all-zero weights (no LoRA). */
function normalise(v: Float64Array, by: 'sum' | 'l2'): Float64Array {
  let d = 0;
  for (const x of v) d += by === 'sum' ? x : x * x;
  if (by === 'l2') d = Math.sqrt(d);
  return d > 0 ? v.map((x) => x / d) : v.fill(0);
}

/** The code form's task scores s_i (before the 4th power). */
export function codeTaskScores(sim: LayerSimilarity, spans: readonly TaskSpan[]): Float64Array {
  checkSpans(sim, spans);
  const K = sim.tokens;
  const tokenNorm = Float64Array.from({ length: K }, (_, k) => Math.max(Math.sqrt(sim.tokenSq[k]!), NORM_EPS));
  const m = new Float64Array(sim.words);
  for (let j = 0; j < sim.words; j++) {
    const wn = Math.max(Math.sqrt(sim.wordSq[j]!), NORM_EPS);
    let best = -Infinity;
    for (let k = 0; k < K; k++) best = Math.max(best, sim.dots[j * K + k]! / (wn * tokenNorm[k]!));
    m[j] = best;
  }
  return Float64Array.from(spans, (s) => {
    let sum = 0;
    for (let j = s.start; j < s.start + s.count; j++) sum += m[j]!;
    return sum / s.count;
  });
}

/** The paper form's M_i = max_k ĉ_k·ē_i. */
export function paperTaskScores(sim: LayerSimilarity, spans: readonly TaskSpan[]): Float64Array {
  checkSpans(sim, spans);
  const K = sim.tokens;
  return Float64Array.from(spans, (s) => {
    let best = -Infinity;
    for (let k = 0; k < K; k++) {
      let sum = 0;
      for (let j = s.start; j < s.start + s.count; j++) sum += sim.dots[j * K + k]!;
      best = Math.max(best, sum / s.count);
    }
    return best;
  });
}

/** The weights w^l of one layer, one per task (the order of `spans`). */
export function ewaLayerWeights(sim: LayerSimilarity, spans: readonly TaskSpan[], form: EwaForm = 'code'): Float64Array {
  if (form === 'code') return normalise(codeTaskScores(sim, spans).map((s) => s ** 4), 'sum');
  return normalise(paperTaskScores(sim, spans).map((m) => m * m), 'l2');
}

/**
 * Plain-TS reference from the states: word rows [L, J, C] (the concept prompt's layer-l states at the
 * words' positions) and prompt rows [Lp, K, C] with Lp = L, or 1 when every layer's prompt is the same.
 * Returns w^l for l = 0..L-1.
 */
export function ewaWeightsReference(
  wordRows: ArrayLike<number>, promptRows: ArrayLike<number>,
  dims: { layers: number; words: number; tokens: number; width: number; promptShared?: boolean },
  spans: readonly TaskSpan[], form: EwaForm = 'code',
): Float64Array[] {
  const { layers: L, words: J, tokens: K, width: C } = dims;
  const slice = (x: ArrayLike<number>, from: number, n: number) => Array.prototype.slice.call(x, from, from + n) as number[];
  return Array.from({ length: L }, (_, l) => {
    const e = slice(wordRows, l * J * C, J * C);
    const c = slice(promptRows, (dims.promptShared ? 0 : l) * K * C, K * C);
    return ewaLayerWeights(layerSimilarity(e, J, c, K, C), spans, form);
  });
}
