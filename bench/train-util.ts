/** Helpers shared by the train suite's files (bench/train.ts). */
import type { GpuContext } from '../src/gpu/context';
import { makeInput } from './inputs';

/** Waits for every submitted command (flush alone returns at once when another submit came last). */
export async function sync(ctx: GpuContext): Promise<void> {
  await ctx.flush();
  await ctx.device.queue.onSubmittedWorkDone();
}

/** n seeded samples of N(0, std²). */
export function gaussian(n: number, seed: number, std: number): Float32Array {
  return makeInput({ name: 'x', shape: [n], role: 'activation' }, seed).map((x) => x * std);
}

/** "finite, max|g| …, nonzero …%" of a gradient read back (what the row's `check` says). */
export function describeGrad(name: string, g: Float32Array): string {
  let max = 0;
  let nonzero = 0;
  let finite = true;
  for (const x of g) {
    if (!Number.isFinite(x)) finite = false;
    else if (x !== 0) nonzero++;
    max = Math.max(max, Math.abs(x));
  }
  return `${name}: ${finite ? 'finite' : 'NOT FINITE'}, max|g| ${max.toExponential(1)}, ${((100 * nonzero) / Math.max(1, g.length)).toFixed(0)}% non-zero`;
}
