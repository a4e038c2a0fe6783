// The per-op golden cases of golden/ (diffusers 0.25.1 / PyTorch 1.13 f32 outputs on the tiny SDXL UNet's
// weights; golden/README.md, golden/manifest.json) run through the f32 kernels. The brief's bound is
// max|Δ| ≤ 1e-4·max|expected|; the kernels reach ~1e-7, so the assertion is ten times tighter than the bound.
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { goldenCase, need, unetWeights, type GoldenTensor } from '../../tests/golden-case';
import { compare, describeComparison } from '../../tests/numeric';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { conv2d } from './conv2d';
import { groupNorm, layerNorm } from './norm';

const BOUND = 1e-5;

interface GoldenOp {
  name: string;
  /** Weights: the UNet tensors under this prefix. */
  prefix: string;
  run(ctx: GpuContext, x: Tensor, w: Record<string, Tensor>): Promise<Tensor>;
}

const OPS: GoldenOp[] = [
  {
    // GroupNorm(8, 16, eps=1e-5): conv_norm_out, 2 channels per group
    name: 'op_groupnorm_16ch',
    prefix: 'conv_norm_out.',
    run: (ctx, x, w) => groupNorm(ctx, x, w.weight!, w.bias!, { groups: 8, eps: 1e-5 }),
  },
  {
    // GroupNorm(8, 96, eps=1e-5): up_blocks.0.resnets.0.norm1, 12 channels per group
    name: 'op_groupnorm_96ch',
    prefix: 'up_blocks.0.resnets.0.norm1.',
    run: (ctx, x, w) => groupNorm(ctx, x, w.weight!, w.bias!, { groups: 8, eps: 1e-5 }),
  },
  {
    // LayerNorm(32, eps=1e-5): BasicTransformerBlock.norm1
    name: 'op_layernorm',
    prefix: 'down_blocks.1.attentions.0.transformer_blocks.0.norm1.',
    run: (ctx, x, w) => layerNorm(ctx, x, w.weight!, w.bias!, { eps: 1e-5 }),
  },
  {
    // Downsample2D: Conv2d(16, 16, 3, stride=2, padding=1), [2,16,16,24] -> [2,16,8,12]
    name: 'op_downsample',
    prefix: 'down_blocks.0.downsamplers.0.conv.',
    run: (ctx, x, w) => conv2d(ctx, x, w.weight!, { bias: w.bias!, stride: 2, padding: 1 }),
  },
  {
    // the same conv on an odd 13×19 input -> 7×10
    name: 'op_downsample_odd',
    prefix: 'down_blocks.0.downsamplers.0.conv.',
    run: (ctx, x, w) => conv2d(ctx, x, w.weight!, { bias: w.bias!, stride: 2, padding: 1 }),
  },
];

describe(`golden per-op cases (f32) on ${TEST_ADAPTER}`, () => {
  for (const op of OPS) {
    it(`${op.name} matches diffusers within ${BOUND}·max|expected|`, async () => {
      const ctx = await testContext();
      const tensors = goldenCase(op.name);
      const input = need(tensors, 'input.x');
      const expected = need(tensors, 'output');
      const up = (t: GoldenTensor, label: string) => ctx.upload(t.data, t.shape, 'f32', label);
      const weights = Object.fromEntries(Object.entries(unetWeights(op.prefix)).map(([k, t]) => [k, up(t, `${op.name}.${k}`)]));
      const x = up(input, `${op.name}.x`);
      const got = await checked(ctx, op.name, async () => {
        const y = await op.run(ctx, x, weights);
        expect(y.shape).toEqual(expected.shape);
        const data = await ctx.read(y);
        ctx.release(y);
        return data;
      });
      ctx.release(x, ...Object.values(weights));
      const r = compare(got, expected.data);
      console.log(`golden ${op.name} [${input.shape.join(',')}] -> [${expected.shape.join(',')}]: ${describeComparison(r)}`);
      expect(r.maxAbs).toBeLessThanOrEqual(BOUND * r.scale);
    });
  }
});
