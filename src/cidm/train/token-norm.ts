/**
 * Early stop of the concept-token updates (spec §1.4; Mix-of-Show/CIDM train_edlora.py): after every
 * optimizer step, the mean L2 norm of the concept-token rows is measured; once it reaches
 * `emb_norm_threshold` (0.55) the tokens stop changing for good: they keep their values of that step
 * (the code snapshots the table then and restores it after every later step, which is the same as no
 * longer stepping the token group).
 *
 * Rows: every (layer, word) embedding of the concept, from every table given (for SDXL the
 * text_encoder and text_encoder_2 tables, each row's norm in its own width). The mean is over all rows.
 */

/** CIDM's threshold (YAML `emb_norm_threshold: 5.5e-1`). */
export const EMB_NORM_THRESHOLD = 0.55;

export interface TokenRows {
  /** Rows of `dim` values each, row-major (e.g. token_embeds [L, words, dim]). */
  data: ArrayLike<number>;
  dim: number;
}

/** Mean over all rows of all tables of the row's L2 norm (f64). */
export function meanRowNorm(tables: readonly TokenRows[]): number {
  let sum = 0;
  let rows = 0;
  for (const t of tables) {
    if (!Number.isInteger(t.dim) || t.dim < 1 || t.data.length % t.dim) throw new RangeError(`token rows: ${t.data.length} values are not rows of ${t.dim}`);
    for (let r = 0; r < t.data.length / t.dim; r++) {
      let sq = 0;
      for (let k = 0; k < t.dim; k++) sq += t.data[r * t.dim + k]! ** 2;
      sum += Math.sqrt(sq);
      rows++;
    }
  }
  if (!rows) throw new RangeError('token rows: no rows given');
  return sum / rows;
}

/** The stop's state; `frozen` is what a checkpoint stores. */
export class TokenNormStop {
  /** The mean norm measured by the last observe() (the code logs it as Norm_mean). */
  lastNorm: number | null = null;

  constructor(readonly threshold = EMB_NORM_THRESHOLD, public frozen = false, public frozenAtStep: number | null = null) {}

  /**
   * Call after optimizer step `step` with the tokens' values after it; returns whether the tokens are
   * frozen from now on (the next step skips the token group). Once frozen, it stays frozen.
   */
  observe(step: number, tables: readonly TokenRows[]): boolean {
    if (this.frozen) return true;
    const norm = meanRowNorm(tables);
    this.lastNorm = norm;
    if (norm >= this.threshold) {
      this.frozen = true;
      this.frozenAtStep = step;
    }
    return this.frozen;
  }
}
