import { it } from 'vitest';
import { testContext } from '../../../tests/gpu-harness';
import { attentionBackward, attentionForwardWithStats } from './attention-backward';

it('compile times', async () => {
  const ctx = await testContext();
  const D = Number(process.env.ATT_D ?? 64);
  const dtype = (process.env.ATT_DT ?? 'f32') as 'f32';
  const causal = process.env.ATT_C === '1';
  const mk = (n: string) => ctx.upload(new Float32Array(1 * 9 * D).fill(0.1), [1, 9, D], dtype, n);
  const [q, k, v, dO] = [mk('q'), mk('k'), mk('v'), mk('dO')];
  for (let rep = 0; rep < 2; rep++) {
    let t = performance.now();
    const { out, lse } = await attentionForwardWithStats(ctx, q, k, v, { heads: 1, causal });
    await ctx.read(lse);
    console.log(`fwd+lse D${D}: ${(performance.now() - t).toFixed(0)} ms`);
    t = performance.now();
    const g = await attentionBackward(ctx, { q, k, v, out, dOut: dO, lse }, { heads: 1, causal });
    await ctx.read(g.dv);
    console.log(`bwd D${D}: ${(performance.now() - t).toFixed(0)} ms`);
  }
}, 600000);
