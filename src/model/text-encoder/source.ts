/**
 * Where a text encoder's tensors come from, by transformers name: a diffusers/transformers folder file
 * (text_encoder/model.safetensors, names as they are) or a single-file checkpoint seen through its
 * weight mappings (src/model/weights/clip-sgm.ts: CLIP-L prefix stripped, OpenCLIP-bigG renamed, its
 * fused in_proj split and text_projection transposed). The loader only sees this interface.
 */
import { ModelFileError } from '../errors';
import type { TargetDtype } from '../safetensors/dtype';
import type { SafetensorsFile, TensorChunk } from '../safetensors/reader';
import { mappedShape, readMapped, type WeightMapping } from '../weights/mapping';

export interface TensorSource {
  /** The file's name, for messages. */
  readonly name: string;
  /** The canonical shape; a `missing-tensor` error when the source lacks the tensor. */
  shape(name: string): readonly number[];
  /** A sort key (file offset): reading in ascending order suits forward-only sources. */
  order(name: string): number;
  /** The tensor's data in element-aligned chunks, in order. */
  chunks<T extends TargetDtype>(name: string, to: T): AsyncIterable<TensorChunk<T>>;
}

/** A file with canonical names, or names translated by `fileName` (canonical -> name in the file). */
export function fileTensorSource(file: SafetensorsFile, fileName: (canonical: string) => string = (n) => n): TensorSource {
  return {
    name: file.name,
    shape: (n) => file.info(fileName(n)).shape,
    order: (n) => file.info(fileName(n)).begin,
    chunks: (n, to) => file.chunks(fileName(n), to),
  };
}

/**
 * A file read through mappings (e.g. componentMappings(file, plan, 'text_encoder_2')). Untransformed
 * and reshaped tensors stream in chunks (the 49408-row token table is the biggest tensor); split rows
 * and transposes are read whole, which for SDXL is at most one 1280×1280 block at a time.
 */
export function mappedTensorSource(file: SafetensorsFile, mappings: readonly WeightMapping[]): TensorSource {
  const byTarget = new Map(mappings.map((m) => [m.target, m]));
  const get = (n: string): WeightMapping => {
    const m = byTarget.get(n);
    if (!m) throw new ModelFileError('missing-tensor', file.name, 'no tensor of the file maps to it', n);
    return m;
  };
  return {
    name: file.name,
    shape: (n) => mappedShape(file, get(n)),
    order: (n) => file.info(get(n).source).begin,
    chunks: (n, to) => mappedChunks(file, get(n), to),
  };
}

async function* mappedChunks<T extends TargetDtype>(file: SafetensorsFile, m: WeightMapping, to: T): AsyncGenerator<TensorChunk<T>> {
  if (!m.transform || m.transform.kind === 'reshape') {
    yield* file.chunks(m.source, to);
    return;
  }
  const { data } = await readMapped(file, m, to);
  yield { elementOffset: 0, data };
}
