/**
 * ewaSimilarity(ctx, concept, prompt): the numbers EWA's weights are made of (weights.ts), for
 * every cross-attention layer in one dispatch (shaders/ewa_similarity.wgsl): dot products of the concept
 * prompt's states at the words' rows with every prompt row, and both sides' squared norms, in f32. Only
 * this small table ([L, J+1, K+1]; SDXL with 50 two-word concepts: 70 × 101 × 78 floats, 2.2 MB) is
 * read back, never the states themselves ([L, 77, 2048] per side, 22 MB in f16).
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import type { KernelDescriptor } from '../../gpu/kernel';
import { binding, describe, numel, type DType, type Tensor } from '../../gpu/tensor';
import { grid1d } from '../../ops/grid';
import type { LayerSimilarity } from './weights';
import source from '../../../shaders/ewa_similarity.wgsl?raw';

const WG = 64;

export const ewaSimilarityKernel: KernelDescriptor<{ dtype: DType }> = {
  name: 'ewa-similarity',
  source,
  defines: ({ dtype }) => ({ DTYPE: dtype }),
  constants: () => ({ WG }),
};

/** Where the concept words' states are: word j of layer l is row l·layerStride + rows[j] of `states`. */
export interface ConceptRows {
  /** Rows of C values (any leading shape, last axis C). */
  states: Tensor;
  layers: number;
  layerStride: number;
  rows: readonly number[];
}

/**
 * The concept words' layer-wise states (ConceptRows) against prompt states [L or 1, K, C] (1: one
 * prompt for every layer). Returns f32 [L, J+1, K+1].
 */
export async function ewaSimilarity(ctx: GpuContext, concept: ConceptRows, prompt: Tensor): Promise<Tensor> {
  const { states, layers: L, layerStride, rows: wordRows } = concept;
  const C = states.shape[states.shape.length - 1]!;
  const total = numel(states.shape) / C;
  const [Lp, K, Cp] = prompt.shape as [number, number, number];
  const J = wordRows.length;
  if (prompt.shape.length !== 3 || Cp !== C || (Lp !== L && Lp !== 1) || prompt.dtype !== states.dtype) {
    throw new RangeError(`EWA similarity: prompt states ${describe(prompt)} must be ${states.dtype}[${L} or 1, K, ${C}] to match the concept states ${describe(states)}`);
  }
  const last = (L - 1) * layerStride;
  if (!J || wordRows.some((r) => !Number.isInteger(r) || r < 0 || last + r >= total)) {
    throw new RangeError(`EWA similarity: word rows must be 1 or more rows that stay inside the ${total} concept rows in all ${L} layers`);
  }
  if (states.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'EWA similarity on f16 states');
  const out = ctx.empty([L, J + 1, K + 1], 'f32', 'ewa-similarity');
  // The rows travel as u32 bit patterns in a 4-byte-element tensor (Tensor has float dtypes only).
  const rows = ctx.empty([J], 'f32', 'ewa-word-rows');
  ctx.write(rows, new Float32Array(Uint32Array.from(wordRows).buffer));
  const k = await ctx.kernel(ewaSimilarityKernel, { dtype: states.dtype });
  ctx.dispatch(k, {
    uniforms: { layers: L, words: J, tokens: K, dim: C, concept_stride: layerStride, prompt_stride: Lp === 1 ? 0 : K },
    bindings: [binding(states), binding(rows), binding(prompt), binding(out)],
    workgroups: grid1d(L * (J + 1) * (K + 1), WG),
  });
  ctx.release(rows);
  return out;
}

/** Splits the read-back table [L, J+1, K+1] into one LayerSimilarity per layer. */
export function layerSimilarities(table: Float32Array, layers: number, words: number, tokens: number): LayerSimilarity[] {
  const J1 = words + 1;
  const K1 = tokens + 1;
  if (table.length !== layers * J1 * K1) throw new RangeError(`EWA similarity: ${table.length} values for [${layers}, ${J1}, ${K1}]`);
  return Array.from({ length: layers }, (_, l) => {
    const at = (j: number, k: number) => table[(l * J1 + j) * K1 + k]!;
    const dots = new Float32Array(words * tokens);
    for (let j = 0; j < words; j++) dots.set(table.subarray((l * J1 + j) * K1, (l * J1 + j) * K1 + tokens), j * tokens);
    return {
      words,
      tokens,
      dots,
      wordSq: Float32Array.from({ length: words }, (_, j) => at(j, tokens)),
      tokenSq: Float32Array.from({ length: tokens }, (_, k) => at(words, k)),
    };
  });
}
