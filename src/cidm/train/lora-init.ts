/**
 * Initial values of a CIDM task's trainable tensors, from the project's seeded generator
 * (src/diffusion/rng.ts), so a (seed, model) pair starts every run at the same point.
 *
 * LoRA (spec §1.3; edlora.py:413-414): down [r, in] ~ kaiming_uniform_(a=√5), i.e. U(−b, b) with
 * b = gain·sqrt(3/fan_in), gain = sqrt(2/(1 + a²)) = sqrt(1/3), so b = 1/sqrt(in); up [out, r] = 0.
 * With up = 0 the first step's output equals the base model's, and R1's sign(U Uᵢᵀ) is 0 until the
 * diffusion loss has moved U (spec §2.2, last note).
 *
 * Concept tokens (spec §1.4; trainer_edlora.py:168-183, Mix-of-Show init_new_concept): the first
 * placeholder word starts at N(0, σ²)·1 with σ by task, each other word copies its class word's
 * embedding row, and one value is cloned into every layer's copy (the L layer tokens start identical).
 */
import type { NoiseStream } from '../../diffusion/rng';

/** Bound of kaiming_uniform_(a=√5) for a weight with `fanIn` inputs: 1/√fanIn. */
export function kaimingUniformBound(fanIn: number): number {
  if (!Number.isInteger(fanIn) || fanIn < 1) throw new RangeError(`fan_in ${fanIn} must be a positive integer`);
  return 1 / Math.sqrt(fanIn);
}

/** down [rank, inFeatures] ~ U(−1/√in, 1/√in) (torch: from + (to − from)·u). */
export function initLoraDown(rng: NoiseStream, rank: number, inFeatures: number): Float32Array {
  const b = kaimingUniformBound(inFeatures);
  const out = new Float32Array(rank * inFeatures);
  for (let i = 0; i < out.length; i++) out[i] = -b + 2 * b * rng.uniform();
  return out;
}

/** up [outFeatures, rank] = 0. */
export function initLoraUp(outFeatures: number, rank: number): Float32Array {
  return new Float32Array(outFeatures * rank);
}

/**
 * σ of the first word's random init for task `task` (1-based), from CIDM's task YAMLs
 * (`<rand-σ>`: 0.013, 0.012, 0.011, 0.014 … 0.020 for tasks 1..10). Later tasks keep 0.020, the last
 * value the method was run with.
 */
export function cidmTokenSigma(task: number): number {
  if (!Number.isInteger(task) || task < 1) throw new RangeError(`task ${task} must be a positive integer (1-based)`);
  const table = [0.013, 0.012, 0.011, 0.014, 0.015, 0.016, 0.017, 0.018, 0.019, 0.02];
  return table[Math.min(task, table.length) - 1]!;
}

export interface ConceptTokenInit {
  /** Cross-attention layers L (one token copy per layer). */
  layers: number;
  /** Embedding width of this text encoder's table. */
  dim: number;
  sigma: number;
  /**
   * One entry per placeholder word: null for the random first word, else the class word's row in this
   * encoder's token-embedding table (e.g. "duck", "toy" for "<duck1> <duck2> <duck3>").
   */
  words: readonly (ArrayLike<number> | null)[];
}

/** token_embeds [L, words, dim]: word j's initial row, identical in every layer. */
export function initConceptTokens(rng: NoiseStream, o: ConceptTokenInit): Float32Array {
  const { layers, dim, words } = o;
  if (!words.length) throw new RangeError('concept tokens: no placeholder words');
  const rows = words.map((w, j) => {
    if (w === null) {
      const r = new Float32Array(dim);
      for (let k = 0; k < dim; k++) r[k] = rng.normal() * o.sigma;
      return r;
    }
    if (w.length !== dim) throw new RangeError(`concept tokens: class row of word ${j} has ${w.length} values, the table ${dim}`);
    return Float32Array.from(w);
  });
  const out = new Float32Array(layers * words.length * dim);
  for (let l = 0; l < layers; l++) rows.forEach((r, j) => out.set(r, (l * words.length + j) * dim));
  return out;
}
