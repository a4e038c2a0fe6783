/** Median wall-clock timing of GPU work, each run ending at queue.onSubmittedWorkDone(). */

export interface Timing {
  medianMs: number;
  runs: number[];
}

/** Runs once to warm up (compile, upload), then a number of timed runs chosen by how slow it is. */
export async function timeRuns(run: () => Promise<void>, maxRuns: number): Promise<Timing> {
  const t0 = performance.now();
  await run();
  const first = performance.now() - t0;
  const count = Math.max(1, Math.min(maxRuns, first < 3000 ? 5 : first < 20000 ? 3 : 1));
  const runs: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    await run();
    runs.push(performance.now() - s);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, runs };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): { maxAbs: number; scale: number } {
  let maxAbs = 0;
  let scale = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  if (a.length !== b.length) maxAbs = Infinity;
  return { maxAbs, scale };
}
