/**
 * Backward of row gathers, deterministic and without atomics (shaders/embedding_backward.wgsl):
 *
 *   embeddingRowsBackward(ids, dX, rowStart, rows)  the gradient of embedding()'s token-row gather for
 *       one block of learned rows [rowStart, rowStart + rows) (CIDM's concept tokens): out[r] = Σ dX[p]
 *       over the positions p with ids[p] = rowStart + r; other positions contribute nothing. dX is
 *       [B·T, D] or [B, T, D] (f32 or f16); the result is ALWAYS f32 [rows, D], as it feeds the f32
 *       optimizer state. (The position-embedding add passes dX through unchanged and needs no op.)
 *   scatterRows(dRows, rowIndex, totalRows)  a zero [totalRows, D] with dRows[r] added at row
 *       rowIndex[r] (repeated indices add up): the backward of picking rows such as the pooled EOS
 *       token out of last_hidden_state seen as [B·T, D].
 *
 * Both invert the index map on the CPU (the ids come from the tokenizer) into a per-call CSR list
 * "output row → source rows, ascending" and gather-sum it on the GPU, one invocation per (row, channel).
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import type { KernelDescriptor } from '../../gpu/kernel';
import { binding, describe, numel, type DType, type Tensor } from '../../gpu/tensor';
import { grid1d } from '../grid';
import source from '../../../shaders/embedding_backward.wgsl?raw';

const WG = 256;

export interface GatherSumVariant {
  input: DType;
  output: DType;
}

export const gatherSumRowsKernel: KernelDescriptor<GatherSumVariant> = {
  name: 'gather-sum-rows',
  source,
  defines: ({ input, output }) => ({ IN_T: input, OUT_T: output, F16: input === 'f16' || output === 'f16' }),
  constants: () => ({ WG }),
};

/**
 * The CSR index of `target` (source row s feeds output row target[s], or none when target[s] is -1):
 * [start of row 0, …, start of row `rows`, source rows…], starts counted from the array's beginning.
 */
export function gatherIndex(target: ArrayLike<number>, rows: number): Uint32Array {
  const counts = new Uint32Array(rows);
  for (let s = 0; s < target.length; s++) if (target[s]! >= 0) counts[target[s]!]!++;
  const index = new Uint32Array(rows + 1 + counts.reduce((a, b) => a + b, 0));
  index[0] = rows + 1;
  for (let r = 0; r < rows; r++) index[r + 1] = index[r]! + counts[r]!;
  const next = index.slice(0, rows);
  for (let s = 0; s < target.length; s++) {
    const t = target[s]!;
    if (t >= 0) index[next[t]!++] = s;
  }
  return index;
}

/** out[r] = Σ src[s] over the sources s with target[s] = r; src is [S, D], out [rows, D] of `dtype`. */
async function gatherSumRows(ctx: GpuContext, src: Tensor, dim: number, target: ArrayLike<number>, rows: number, dtype: DType, label: string): Promise<Tensor> {
  if ((src.dtype === 'f16' || dtype === 'f16') && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${label} on f16 tensors`);
  const out = ctx.empty([rows, dim], dtype, label);
  const count = rows * dim;
  if (count === 0) return out;
  const index = gatherIndex(target, rows);
  // u32 bit patterns in a 4-byte-element tensor (Tensor has float dtypes only), as embedding.ts does.
  const indexTensor = ctx.empty([index.length], 'f32', `${label}-index`);
  ctx.write(indexTensor, new Float32Array(index.buffer));
  const k = await ctx.kernel(gatherSumRowsKernel, { input: src.dtype, output: dtype });
  ctx.dispatch(k, {
    uniforms: { count, dim },
    bindings: [binding(indexTensor), binding(src), binding(out)],
    workgroups: grid1d(count, WG),
  });
  ctx.release(indexTensor);
  return out;
}

export async function embeddingRowsBackward(ctx: GpuContext, ids: ArrayLike<number>, dX: Tensor, rowStart: number, rows: number): Promise<Tensor> {
  const label = 'embedding-rows-backward';
  const dim = dX.shape[dX.shape.length - 1];
  if (dim === undefined || dX.shape.length < 2 || numel(dX.shape.slice(0, -1)) !== ids.length) {
    throw new RangeError(`${label}: dX ${describe(dX)} must be [${ids.length}, D] or [B, T, D] with B·T = ${ids.length} ids`);
  }
  if (!Number.isInteger(rowStart) || rowStart < 0 || !Number.isInteger(rows) || rows < 0) {
    throw new RangeError(`${label}: bad row block start ${rowStart}, rows ${rows}`);
  }
  const target = new Int32Array(ids.length);
  for (let p = 0; p < ids.length; p++) {
    const r = ids[p]! - rowStart;
    target[p] = Number.isInteger(r) && r >= 0 && r < rows ? r : -1;
  }
  return gatherSumRows(ctx, { ...dX, shape: [ids.length, dim] }, dim, target, rows, 'f32', label);
}

export interface ScatterRowsOptions {
  /** dtype of the result; default dRows's. */
  dtype?: DType;
}

export async function scatterRows(ctx: GpuContext, dRows: Tensor, rowIndex: ArrayLike<number>, totalRows: number, opts: ScatterRowsOptions = {}): Promise<Tensor> {
  const label = 'scatter-rows';
  if (dRows.shape.length !== 2 || dRows.shape[0] !== rowIndex.length) {
    throw new RangeError(`${label}: dRows ${describe(dRows)} must be [${rowIndex.length}, D] (one row per index)`);
  }
  if (!Number.isInteger(totalRows) || totalRows < 0) throw new RangeError(`${label}: bad row count ${totalRows}`);
  for (let r = 0; r < rowIndex.length; r++) {
    const t = rowIndex[r]!;
    if (!Number.isInteger(t) || t < 0 || t >= totalRows) throw new RangeError(`${label}: row index ${t} (entry ${r}) is outside [0, ${totalRows})`);
  }
  return gatherSumRows(ctx, dRows, dRows.shape[1]!, rowIndex, totalRows, opts.dtype ?? dRows.dtype, label);
}
