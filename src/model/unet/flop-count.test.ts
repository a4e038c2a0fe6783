import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { countUNetStepFlops } from './flop-count';
import type { UNetConfigJson } from './arch';
import { SDXL_BASE_UNET } from './sdxl-configs';

const json = <T,>(p: string) => JSON.parse(readFileSync(p, 'utf8')) as T;

describe('UNet FLOP count', () => {
  it('the tiny golden UNet at batch 2 gives the MatMul/Conv FLOPs of the ONNX export of the same model', async () => {
    // bench/models/tiny_unet.json: `flops` counted from the ONNX graph's Conv/MatMul/Gemm nodes (batch 2)
    const sidecar = json<{ flops: number }>('bench/models/tiny_unet.json');
    const flops = await countUNetStepFlops(json<UNetConfigJson>('golden/models/unet/config.json'), { width: 256, height: 256, batch: 2 });
    expect(Math.abs(flops / sidecar.flops - 1)).toBeLessThan(0.01);
  });
  it('grows with the batch linearly and with the image faster than linearly (self-attention)', async () => {
    const one = await countUNetStepFlops(SDXL_BASE_UNET, { width: 512, height: 512, batch: 1 });
    const two = await countUNetStepFlops(SDXL_BASE_UNET, { width: 512, height: 512, batch: 2 });
    const big = await countUNetStepFlops(SDXL_BASE_UNET, { width: 1024, height: 1024, batch: 1 });
    expect(two).toBe(2 * one);
    expect(big).toBeGreaterThan(4 * one);
  });
});
