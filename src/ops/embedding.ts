/**
 * embedding(ctx, ids, blocks, opts): nn.Embedding lookup (+ an optional position embedding added, as
 * CLIPTextEmbeddings does: inputs_embeds + position_embedding(position_ids)).
 *
 *   ids:    token ids on the CPU (they come from the tokenizer), [batch · seq] row-major
 *   blocks: the table as row blocks {tensor [rows, D], start}: block b holds ids [start, start + rows).
 *           A table over one binding's 128 MiB (DESIGN.md, "Testing": OpenCLIP-bigG's 49408 × 1280 f32
 *           is 253 MB) is split into blocks; extra rows beyond the vocabulary (CIDM's learned concept
 *           tokens) are one more block starting at vocab_size. Blocks must not overlap.
 *   positions: [P, D], row (i mod seq) is added to token i (seq <= P).
 *   out:    [batch, seq, D] (or [n, D] without seq), in the positions' dtype, else the blocks'; f32
 *           when f32 blocks (learned concept rows) or f32 positions sit beside f16 blocks, or on a
 *           device without shader-f16: f16 blocks are then packed weights (f16 pairs in u32 words,
 *           GpuContext.persistentWeight), read by the kernel's packed variant.
 *
 * Why a GPU gather and not a CPU one: the table would otherwise live in JS memory (253 MB for bigG in
 * f32) next to its GPU copy, and learned concept rows are trained on the GPU. One dispatch per block
 * (shaders/embedding.wgsl); each writes only its own tokens, so no output element is written twice.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, describe, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/embedding.wgsl?raw';

const WG = 256;

export const embeddingKernel: KernelDescriptor<{ dtype: DType; packedTable: boolean }> = {
  name: 'embedding',
  source,
  defines: ({ dtype, packedTable }) => ({ DTYPE: dtype, PACKED_TABLE: packedTable }),
  constants: () => ({ WG }),
};

export interface EmbeddingBlock {
  /** [rows, D] */
  readonly tensor: Tensor;
  /** The id of the block's row 0. */
  readonly start: number;
}

export interface EmbeddingOptions {
  /** [P, D] position table; token i gets row i mod seq. Needs `seq`. */
  positions?: Tensor;
  /** Tokens per sequence: the output is [n / seq, seq, D]. */
  seq?: number;
  label?: string;
}

/** Index of the block holding each id; RangeError for an id no block (or two blocks) holds. */
export function blockOfIds(ids: ArrayLike<number>, blocks: readonly { start: number; rows: number }[]): Int32Array {
  const sorted = blocks.map((b, i) => ({ ...b, i })).sort((a, b) => a.start - b.start);
  for (let j = 1; j < sorted.length; j++) {
    const p = sorted[j - 1]!;
    if (sorted[j]!.start < p.start + p.rows) throw new RangeError(`embedding: blocks at ${p.start} and ${sorted[j]!.start} overlap`);
  }
  const out = new Int32Array(ids.length);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    const b = sorted.find((s) => id >= s.start && id < s.start + s.rows);
    if (!Number.isInteger(id) || !b) throw new RangeError(`embedding: token ${t} has id ${id}, which no table block holds`);
    out[t] = b.i;
  }
  return out;
}

export async function embedding(ctx: GpuContext, ids: ArrayLike<number>, blocks: readonly EmbeddingBlock[], opts: EmbeddingOptions = {}): Promise<Tensor> {
  const label = opts.label ?? 'embedding';
  const first = blocks[0];
  if (!first) throw new RangeError(`${label}: no table blocks`);
  const dim = first.tensor.shape[1]!;
  // The output (activation) dtype: the positions', else f32 when any block is f32 or f16 cannot be
  // computed here, else f16. An f16 block under an f32 output is a packed weight (as matmul's B), so
  // f16 and f32 blocks (the learned concept rows) may mix then.
  const pos0 = opts.positions;
  const dtype: DType = pos0 ? pos0.dtype : blocks.some((b) => b.tensor.dtype === 'f32') || !ctx.hasF16 ? 'f32' : 'f16';
  for (const b of blocks) {
    const fits = b.tensor.dtype === dtype || (dtype === 'f32' && b.tensor.dtype === 'f16');
    if (b.tensor.shape.length !== 2 || b.tensor.shape[1] !== dim || !fits) {
      throw new RangeError(`${label}: block ${describe(b.tensor)} does not match ${dtype}[rows×${dim}]`);
    }
    if (!Number.isInteger(b.start) || b.start < 0 || b.start + b.tensor.shape[0]! > 0xffffffff) throw new RangeError(`${label}: bad block start ${b.start}`);
  }
  if (dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${label} on f16 tables`);
  const n = ids.length;
  const seq = opts.seq ?? n;
  if (!Number.isInteger(seq) || seq < 1 || n % seq !== 0) throw new RangeError(`${label}: ${n} ids do not split into sequences of ${seq}`);
  const pos = opts.positions;
  if (pos) {
    if (opts.seq === undefined) throw new RangeError(`${label}: positions need seq`);
    if (pos.dtype !== dtype || pos.shape.length !== 2 || pos.shape[1] !== dim || pos.shape[0]! < seq) {
      throw new RangeError(`${label}: positions ${describe(pos)} must be ${dtype}[>=${seq}×${dim}]`);
    }
  }
  const used = blockOfIds(ids, blocks.map((b) => ({ start: b.start, rows: b.tensor.shape[0]! })));
  const out = ctx.empty(opts.seq === undefined ? [n, dim] : [n / seq, seq, dim], dtype, label);
  if (n === 0 || dim === 0) return out;
  // The ids travel as u32 bit patterns in a 4-byte-element tensor (Tensor has float dtypes only).
  const idTensor = ctx.empty([n], 'f32', `${label}-ids`);
  ctx.write(idTensor, new Float32Array(Uint32Array.from(ids).buffer));
  const count = n * dim;
  const kernels = await Promise.all(blocks.map((b) => ctx.kernel(embeddingKernel, { dtype, packedTable: b.tensor.dtype !== dtype })));
  blocks.forEach((b, i) => {
    if (!used.includes(i)) return; // no token of this block: nothing to write
    ctx.dispatch(kernels[i]!, {
      uniforms: { count, dim, seq, row_start: b.start, rows: b.tensor.shape[0]!, has_pos: pos ? 1 : 0 },
      // Without positions the table is bound again in the unused slot (read-only bindings may alias).
      bindings: [binding(idTensor), binding(b.tensor), binding(pos ?? b.tensor), binding(out)],
      workgroups: grid1d(count, WG),
    });
  });
  ctx.release(idTensor);
  return out;
}

/** Splits a [rows, D] table into row blocks of at most `maxRows` rows (for tests and the loader). */
export function rowBlocks(rows: number, maxRows: number): { start: number; rows: number }[] {
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`rowBlocks: bad block size ${maxRows}`);
  const out: { start: number; rows: number }[] = [];
  for (let s = 0; s < rows; s += maxRows) out.push({ start: s, rows: Math.min(maxRows, rows - s) });
  return out;
}

/** Plain-TS reference: table [V, D] (all rows, extra ones appended), positions [P, D] or null. */
export function embeddingReference(
  ids: ArrayLike<number>,
  table: ArrayLike<number>,
  dim: number,
  positions: ArrayLike<number> | null,
  seq: number,
): Float32Array {
  const out = new Float32Array(ids.length * dim);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    const p = t % seq;
    for (let c = 0; c < dim; c++) out[t * dim + c] = table[id * dim + c]! + (positions ? positions[p * dim + c]! : 0);
  }
  return out;
}
