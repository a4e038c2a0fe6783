/**
 * The lookup half of matmul tile tuning (matmul-tuning.ts measures): a problem's key, and the tile an
 * autotune stored for it in ctx.tuning. Apart from matmul.ts so that matmul.ts does not import the
 * tuner (which imports matmul.ts).
 */
import type { GpuContext } from '../gpu/context';
import type { DType } from '../gpu/tensor';
import type { MatmulProblem, TileConfig } from './matmul';

export interface MatmulTunable {
  p: MatmulProblem;
  dtype: DType;
  transA: boolean;
  transB: boolean;
  /** B holds f16 weights packed in u32 words beside f32 A (no shader-f16). */
  packedB?: boolean;
}

/** The tuning-table key of a problem: everything that decides the fastest tile. */
export function matmulTuningKey(t: MatmulTunable): string {
  const { p } = t;
  return `matmul|${t.dtype}${t.packedB ? '+packedB' : ''}|${t.transA ? 'T' : 'N'}${t.transB ? 'T' : 'N'}|${p.batch}x${p.M}x${p.N}x${p.K}|${p.strideA ? 'a' : ''}${p.strideB ? 'b' : ''}`;
}

/** Workgroup memory every WebGPU device has (maxComputeWorkgroupStorageSize's minimum). */
const WORKGROUP_MEMORY = 16384;

/** The tile stored for a key, if it is a well-formed tile this device can run (a table from an older version is ignored, not trusted). */
export function tunedTile(ctx: GpuContext, key: string): TileConfig | undefined {
  const c = ctx.tuning.get(key);
  if (!c) return undefined;
  const { wgX, wgY, rb, bk } = c as Record<string, number>;
  if (![wgX, wgY, bk].every((v) => Number.isInteger(v) && v! > 0) || (rb !== 1 && rb !== 2) || bk! % 4 !== 0) return undefined;
  const lim = ctx.device.limits;
  if (wgX! * wgY! > lim.maxComputeInvocationsPerWorkgroup || wgX! > lim.maxComputeWorkgroupSizeX || wgY! > lim.maxComputeWorkgroupSizeY) return undefined;
  if (2 * bk! * 4 * rb * Math.max(wgX!, wgY!) * 4 > WORKGROUP_MEMORY) return undefined;
  return { wgX: wgX!, wgY: wgY!, rb, bk: bk! };
}
