import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { conv2dSameCpu, linearCpu, readSafetensors, tensor } from '../../tests/golden-small-case';
import { compare, describeComparison } from '../../tests/numeric';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { DType } from '../gpu/tensor';
import { geglu } from './geglu';
import { upsampleNearest } from './upsample';
import { gegluReference } from './small-ops.reference';

// Golden cases (golden/README.md, section f): the kernels run on the GPU; the linears and the conv
// around them run on the CPU in f64 (tests/golden-small-case.ts), so a mismatch is the kernel's.
const unet = readSafetensors('models/unet/diffusion_pytorch_model.safetensors');
const w = (name: string) => tensor(unet, name);
const dtypes: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
/** Relative to the output scale: f32 1e-5; f16 3e-3 (inputs rounded to f16, f16 output storage). */
const TOL = { f32: 1e-5, f16: 3e-3 } as const;

describe(`small-op golden cases on ${TEST_ADAPTER}`, () => {
  const ffCase = readSafetensors('cases/op_feedforward_geglu.safetensors');
  const ff = 'down_blocks.1.attentions.0.transformer_blocks.0.ff.net.';

  for (const dtype of dtypes) {
    it(`op_feedforward_geglu (${dtype}): proj (CPU) -> geglu (GPU) -> net.2 (CPU)`, async () => {
      const ctx = await testContext();
      const x = tensor(ffCase, 'input.x');
      const rows = x.shape[0]! * x.shape[1]!;
      const h32 = linearCpu(x.data, rows, w(`${ff}0.proj.weight`), w(`${ff}0.proj.bias`));
      const h = dtype === 'f16' ? roundToF16(h32) : h32;
      const ht = ctx.upload(h, [x.shape[0]!, x.shape[1]!, 256], dtype, 'ff-proj');
      const act = await checked(ctx, `geglu golden ${dtype}`, async () => ctx.read(await geglu(ctx, ht)));
      const kc = compare(act, gegluReference(h, rows, 128));
      const out = linearCpu(act, rows, w(`${ff}2.weight`), w(`${ff}2.bias`));
      const oc = compare(out, tensor(ffCase, 'output').data);
      console.log(`[golden] ff geglu ${dtype}: kernel ${describeComparison(kc)}; block ${describeComparison(oc)}`);
      expect(kc.maxRel).toBeLessThanOrEqual(TOL[dtype]);
      expect(oc.maxRel).toBeLessThanOrEqual(TOL[dtype]);
      ctx.release(ht);
    });
  }

  const upCases: [string, [number, number] | undefined][] = [
    ['op_upsample', undefined],
    ['op_upsample_output_size', [7, 10]],
  ];
  for (const [name, size] of upCases) {
    for (const dtype of dtypes) {
      it(`${name} (${dtype}): nearest upsample (GPU) -> conv 3x3 (CPU)`, async () => {
        const ctx = await testContext();
        const c = readSafetensors(`cases/${name}.safetensors`);
        const x = tensor(c, 'input.x');
        const data = dtype === 'f16' ? roundToF16(x.data) : x.data;
        const xt = ctx.upload(data, x.shape, dtype, 'up-in');
        const up = await checked(ctx, `${name} ${dtype}`, () => upsampleNearest(ctx, xt, size ? { outputSize: size } : {}));
        const expectedShape = tensor(c, 'output').shape;
        expect(up.shape).toEqual(expectedShape);
        const y = conv2dSameCpu(await ctx.read(up), up.shape, w('up_blocks.0.upsamplers.0.conv.weight'), w('up_blocks.0.upsamplers.0.conv.bias'));
        const oc = compare(y, tensor(c, 'output').data);
        console.log(`[golden] ${name} ${dtype}: ${describeComparison(oc)}`);
        expect(oc.maxRel).toBeLessThanOrEqual(TOL[dtype]);
        ctx.release(xt, up);
      });
    }
  }

  if (TEST_ADAPTER !== 'lavapipe') {
    it('refuses the f16 variants on an adapter without shader-f16', async () => {
      const ctx = await testContext();
      expect(ctx.hasF16).toBe(false);
      const t = ctx.upload(new Float32Array(2 * 4), [1, 2, 2, 2], 'f32', 'fake');
      await expect(upsampleNearest(ctx, { ...t, dtype: 'f16' })).rejects.toThrow(FeatureMissingError);
      await expect(geglu(ctx, { ...t, dtype: 'f16' })).rejects.toThrow(FeatureMissingError);
      ctx.release(t);
    });
  }
});
