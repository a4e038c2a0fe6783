/**
 * Workgroup grids for 1-D element kernels: WebGPU caps each grid dimension (65535 by default), so a
 * large tensor spills into y. Shaders recover the flat index as gid.x + gid.y * num_workgroups.x * WG.
 */
import { ceilDiv } from '../gpu/kernel';

export const MAX_GRID_X = 65535;

export function grid1d(count: number, workgroupSize: number): [number, number] {
  const groups = Math.max(1, ceilDiv(count, workgroupSize));
  if (groups <= MAX_GRID_X) return [groups, 1];
  return [MAX_GRID_X, ceilDiv(groups, MAX_GRID_X)];
}
