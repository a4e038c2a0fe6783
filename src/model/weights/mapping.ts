/**
 * A weight mapping says where a canonical (diffusers / transformers) tensor comes from in a file and
 * how to turn the stored tensor into it. readMapped applies it while reading, so a single-file
 * checkpoint loads tensor by tensor like a diffusers folder.
 */
import { ModelFileError } from '../errors';
import type { TargetDtype } from '../safetensors/dtype';
import type { SafetensorsFile, TensorData } from '../safetensors/reader';

export type Component = 'unet' | 'vae' | 'text_encoder' | 'text_encoder_2';

export type WeightTransform =
  /** Same data, new shape (LDM 1×1-conv attention projections -> Linear). */
  | { readonly kind: 'reshape'; readonly shape: readonly number[] }
  /** Row block `part` of `parts` equal blocks along dim 0 (OpenCLIP's fused in_proj -> q, k, v). */
  | { readonly kind: 'rows'; readonly part: number; readonly parts: number }
  /** 2-D transpose (OpenCLIP text_projection is applied as x @ P; a transformers Linear stores Pᵀ). */
  | { readonly kind: 'transpose' };

export interface WeightMapping {
  readonly component: Component;
  /** Canonical name inside the component (e.g. 'down_blocks.1.attentions.0.proj_in.weight'). */
  readonly target: string;
  /** Name in the file. */
  readonly source: string;
  readonly transform?: WeightTransform;
}

/** The canonical shape a mapping produces from the stored tensor (no data is read). */
export function mappedShape(file: SafetensorsFile, m: WeightMapping): number[] {
  const t = file.info(m.source);
  const tr = m.transform;
  if (!tr) return [...t.shape];
  const fail = (why: string): never => {
    throw new ModelFileError('wrong-model', file.name, why, m.source);
  };
  switch (tr.kind) {
    case 'reshape': {
      const n = tr.shape.reduce((a, b) => a * b, 1);
      if (n !== t.numel) fail(`cannot view shape [${t.shape.join(', ')}] as [${tr.shape.join(', ')}]`);
      return [...tr.shape];
    }
    case 'rows': {
      const rows = t.shape[0];
      if (rows === undefined || rows % tr.parts !== 0) fail(`dim 0 of [${t.shape.join(', ')}] does not split into ${tr.parts}`);
      return [rows! / tr.parts, ...t.shape.slice(1)];
    }
    case 'transpose':
      if (t.shape.length !== 2) fail(`expected a matrix to transpose, found [${t.shape.join(', ')}]`);
      return [t.shape[1]!, t.shape[0]!];
  }
}

/** Reads the stored tensor and applies the transform; returns canonical shape and data. */
export async function readMapped<T extends TargetDtype>(
  file: SafetensorsFile,
  m: WeightMapping,
  to: T,
): Promise<{ shape: number[]; data: TensorData<T> }> {
  const shape = mappedShape(file, m);
  const tr = m.transform;
  if (tr?.kind === 'rows') {
    const count = shape.reduce((a, b) => a * b, 1);
    return { shape, data: await file.readSlice(m.source, to, tr.part * count, count) };
  }
  const data = await file.read(m.source, to);
  if (tr?.kind === 'transpose') {
    const [r, c] = [shape[1]!, shape[0]!]; // stored rows × cols
    const out = new (data.constructor as new (n: number) => TensorData<T>)(data.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j]!;
    return { shape, data: out };
  }
  return { shape, data };
}
