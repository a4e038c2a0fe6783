/**
 * Loads a CLIP text encoder into GPU tensors of the compute dtype, tensor by tensor in bounded chunks
 * (as src/model/unet/load.ts). Every tensor is checked for presence and shape first, so a wrong or
 * incomplete file fails before any upload; a failure or an abort destroys what was uploaded.
 *
 * The token embedding is kept as row blocks of at most `embeddingBlockBytes` (default 64 MiB): bigG's
 * 49408 × 1280 table is 253 MB in f32 (126 MB in f16), over the 128 MiB per-binding limit the project
 * keeps (DESIGN.md); src/ops/embedding.ts gathers from the blocks. 64 MiB (4 blocks for bigG in f32,
 * 2 in f16; 3 / 2 for CLIP-L) leaves headroom under any device's binding limit.
 */
import type { GpuContext } from '../../gpu/context';
import { BYTES_PER_ELEMENT, type DType, type Tensor } from '../../gpu/tensor';
import type { EmbeddingBlock } from '../../ops/embedding';
import { rowBlocks } from '../../ops/embedding';
import { ModelFileError } from '../errors';
import { SafetensorsFile } from '../safetensors/reader';
import type { TextEncoderConfig } from './config';
import { fileTensorSource, type TensorSource } from './source';
import { POSITION_EMBEDDING, TOKEN_EMBEDDING, textEncoderWeightShapes } from './weights';
import { checkComputeDtype, weightStorageDtype } from '../weights/storage-dtype';

export const DEFAULT_EMBEDDING_BLOCK_BYTES = 64 << 20;

export interface LoadedTextEncoder {
  config: TextEncoderConfig;
  /** Every parameter but the token embedding, by transformers name. */
  weights: Map<string, Tensor>;
  /** The token embedding [vocab, hidden] as row blocks (ids start … start + rows - 1 each). */
  tokenBlocks: EmbeddingBlock[];
  dtype: DType;
  bytes: number;
}

export interface LoadTextEncoderOptions {
  /** The compute (activation) dtype. */
  dtype: DType;
  /**
   * Store the matrices and the token table as packed f16 under f32 compute (model/weights/storage-dtype.ts);
   * the position table stays f32 (it is the embedding kernel's f32 `pos` operand, 77 rows).
   */
  packWeights?: boolean;
  /** Largest token-embedding block; default 64 MiB (also capped by the device's binding limit). */
  embeddingBlockBytes?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Rows per token-embedding block for a width, dtype and byte bound. */
export function embeddingBlockRows(hidden: number, dtype: DType, maxBytes: number): number {
  const rows = Math.floor(maxBytes / (hidden * BYTES_PER_ELEMENT[dtype]));
  if (rows < 1) throw new RangeError(`embedding blocks of ${maxBytes} bytes cannot hold one row of ${hidden} ${dtype}`);
  return rows;
}

/**
 * `from`: a file with transformers names, or any TensorSource (mappedTensorSource for a single-file
 * checkpoint).
 */
export async function loadTextEncoder(
  ctx: GpuContext,
  from: SafetensorsFile | TensorSource,
  config: TextEncoderConfig,
  o: LoadTextEncoderOptions,
): Promise<LoadedTextEncoder> {
  const src = from instanceof SafetensorsFile ? fileTensorSource(from) : from;
  const shapes = textEncoderWeightShapes(config);
  for (const [name, shape] of shapes) {
    const have = src.shape(name);
    if (have.length !== shape.length || have.some((d, i) => d !== shape[i])) {
      throw new ModelFileError('wrong-model', src.name, `shape is [${have.join(', ')}], expected [${shape.join(', ')}]`, name);
    }
  }
  checkComputeDtype(ctx, o.dtype, 'the text encoder');
  const names = [...shapes.keys()].sort((a, b) => src.order(a) - src.order(b));
  const maxBytes = Math.min(o.embeddingBlockBytes ?? DEFAULT_EMBEDDING_BLOCK_BYTES, ctx.device.limits.maxStorageBufferBindingSize);
  const hidden = config.hiddenSize;
  const storage = (name: string) => (name === POSITION_EMBEDDING ? o.dtype : weightStorageDtype(shapes.get(name)!, o.dtype, o.packWeights));
  const tokenDtype = storage(TOKEN_EMBEDDING);
  const blockRows = embeddingBlockRows(hidden, tokenDtype, maxBytes);

  const weights = new Map<string, Tensor>();
  const tokenBlocks: EmbeddingBlock[] = [];
  let done = 0;
  let bytes = 0;
  try {
    for (const name of names) {
      o.signal?.throwIfAborted();
      if (name === TOKEN_EMBEDDING) {
        for (const b of rowBlocks(config.vocabSize, blockRows)) {
          tokenBlocks.push({ start: b.start, tensor: ctx.persistentWeight([b.rows, hidden], tokenDtype, `${name} rows ${b.start}+${b.rows}`) });
        }
        for await (const chunk of src.chunks(name, tokenDtype)) {
          writeAcrossBlocks(ctx, tokenBlocks, hidden, chunk.elementOffset, chunk.data);
          o.signal?.throwIfAborted();
        }
        for (const b of tokenBlocks) bytes += b.tensor.buffer.size;
      } else {
        const dtype = storage(name);
        const t = ctx.persistentWeight(shapes.get(name)!, dtype, name);
        weights.set(name, t);
        for await (const chunk of src.chunks(name, dtype)) ctx.write(t, chunk.data, chunk.elementOffset);
        bytes += t.buffer.size;
      }
      o.onProgress?.(++done, names.length);
    }
  } catch (err) {
    for (const t of weights.values()) ctx.destroyTensor(t);
    for (const b of tokenBlocks) ctx.destroyTensor(b.tensor);
    throw err;
  }
  return { config, weights, tokenBlocks, dtype: o.dtype, bytes };
}

/** Writes a chunk of the flat [vocab, hidden] table into the row blocks it overlaps. */
function writeAcrossBlocks(ctx: GpuContext, blocks: readonly EmbeddingBlock[], hidden: number, offset: number, data: Float32Array | Uint16Array): void {
  const end = offset + data.length;
  for (const b of blocks) {
    const lo = b.start * hidden;
    const hi = lo + b.tensor.shape[0]! * hidden;
    const from = Math.max(lo, offset);
    const to = Math.min(hi, end);
    if (from < to) ctx.write(b.tensor, data.subarray(from - offset, to - offset), from - lo);
  }
}

export function destroyTextEncoder(ctx: GpuContext, te: LoadedTextEncoder): void {
  for (const t of te.weights.values()) ctx.destroyTensor(t);
  for (const b of te.tokenBlocks) ctx.destroyTensor(b.tensor);
  te.weights.clear();
  te.tokenBlocks.length = 0;
}
