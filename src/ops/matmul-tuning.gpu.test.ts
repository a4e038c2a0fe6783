import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { testContext } from '../../tests/gpu-harness';
import { randomArray } from '../../tests/numeric';
import { roundToF16 } from '../gpu/f16';
import type { DType } from '../gpu/tensor';
import { matmul, matmulProblem } from './matmul';
import { matmulTuningKey, tunedTile } from './matmul-tile-choice';
import { TILE_CANDIDATES, tuneMatmul } from './matmul-tuning';
import { matmulReference } from './matmul.reference';
import { autotune, collectUNetMatmuls } from '../engine/autotune';
import type { UNetConfigJson } from '../model/unet/arch';

const dtypes: DType[] = ['f32', ...(process.env.CIDM_ADAPTER === 'lavapipe' ? (['f16'] as const) : [])];

describe('matmul tile tuning (issue 15 point 4)', () => {
  for (const dtype of dtypes) {
    it(`every candidate tile gives the same bits on odd shapes (${dtype}): a tuning never changes an image`, async () => {
      const ctx = await testContext();
      const round = (v: Float32Array) => (dtype === 'f16' ? roundToF16(v) : v);
      for (const [M, K, N, transA, transB] of [[67, 45, 70, false, true], [70, 21, 65, true, false]] as const) {
        const a = round(randomArray(M * K, M + K));
        const b = round(randomArray(K * N, K + N));
        const ta = ctx.upload(a, transA ? [K, M] : [M, K], dtype, 'a');
        const tb = ctx.upload(b, transB ? [N, K] : [K, N], dtype, 'b');
        const outs: Float32Array[] = [];
        for (const tile of TILE_CANDIDATES) {
          const c = await matmul(ctx, ta, tb, { transA, transB, tile, variant: 'tiled', splitK: 1 });
          outs.push(await ctx.read(c));
          ctx.release(c);
        }
        for (const o of outs.slice(1)) expect(o).toEqual(outs[0]);
        // and they are right: against the f64 reference (the operands as laid out above)
        const ref = matmulReference(a, transA ? [K, M] : [M, K], b, transB ? [N, K] : [K, N], { transA, transB });
        let worst = 0;
        for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(outs[0]![i]! - ref.data[i]!));
        expect(worst).toBeLessThan(dtype === 'f16' ? 5e-2 : 1e-4);
        ctx.release(ta, tb);
      }
    });
  }

  it('a stored tile is used for its shape; a malformed entry is ignored, not trusted', async () => {
    const ctx = await testContext();
    const p = matmulProblem([70, 33], [33, 90], false, false);
    const key = matmulTuningKey({ p, dtype: 'f32', transA: false, transB: false });
    try {
      ctx.tuning.set(key, { wgX: 16, wgY: 16, rb: 2, bk: 16 });
      expect(tunedTile(ctx, key)).toEqual({ wgX: 16, wgY: 16, rb: 2, bk: 16 });
      ctx.tuning.set(key, { wgX: 64, wgY: 64, rb: 2, bk: 16 }); // over the workgroup limits
      expect(tunedTile(ctx, key)).toBeUndefined();
      ctx.tuning.set(key, { wgX: 8, wgY: 8, rb: 3, bk: 16 });
      expect(tunedTile(ctx, key)).toBeUndefined();
    } finally {
      ctx.tuning.delete(key);
    }
  });

  it('tuneMatmul times every candidate and returns the fastest', async () => {
    const ctx = await testContext();
    const p = matmulProblem([40, 36], [36, 72], false, false);
    const r = await tuneMatmul(ctx, { p, dtype: 'f32', transA: false, transB: false }, TILE_CANDIDATES[0]!, 1);
    expect(r.ms).toHaveLength(TILE_CANDIDATES.length);
    expect(r.ms.every((m) => m > 0 && Number.isFinite(m))).toBe(true);
    expect(r.tile).toBe(TILE_CANDIDATES[r.ms.indexOf(Math.min(...r.ms))]);
  });

  it('collects the distinct matmul shapes of a UNet step and tunes the largest within the budget', async () => {
    const ctx = await testContext();
    const config = JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as UNetConfigJson;
    const problems = await collectUNetMatmuls(config, { width: 64, height: 64, batch: 2, dtype: 'f32', latentFactor: 8 });
    // the tiny UNet's q/k/v/out, feed-forward, proj_in/out, time embedding: several distinct shapes, largest first
    expect(problems.length).toBeGreaterThan(5);
    const macs = problems.map((t) => t.p.batch * t.p.M * t.p.N * t.p.K);
    expect([...macs].sort((x, y) => y - x)).toEqual(macs);
    const before = ctx.tuning.size;
    const run = await autotune(ctx, problems.slice(0, 3), { budgetMs: 60_000 });
    try {
      expect(run.summary.problems).toBe(3);
      expect(run.table.map(([k]) => k)).toEqual(problems.slice(0, 3).map((t) => matmulTuningKey(t)));
      expect(ctx.tuning.size).toBe(before + 3);
      expect(run.summary.speedup).toBeGreaterThanOrEqual(1);
      // a zero budget measures nothing
      expect((await autotune(ctx, problems.slice(3), { budgetMs: -1 })).summary.problems).toBe(0);
    } finally {
      for (const [k] of run.table) ctx.tuning.delete(k);
    }
  });
});
