/**
 * SDXL without shader-f16 (issue 12 point 6): Automatic precision on SwiftShader (no shader-f16) loads the
 * tiny golden SDXL with its matrices, conv kernels and token tables packed as f16 pairs in u32 words
 * under f32 compute, and generates an image that matches the f32-weight image closely. On lavapipe
 * (shader-f16) Automatic stays plain f16 and nothing is packed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ADAPTER } from '../../tests/gpu-harness';
import { numel } from '../gpu/tensor';
import { NodeModelFiles } from '../model/node-model-files';
import type { GenerateParams } from './protocol';
import { loadSdxlModel } from './sdxl-model';
import { tinyEngine } from './engine-test-kit';
import { weightBufferBytes } from '../model/unet/fused-qkv';

const PARAMS: GenerateParams = {
  prompt: 'a watercolor fox in the snow', negativePrompt: '', width: 64, height: 48, steps: 3, guidanceScale: 5, scheduler: 'euler', seed: 77,
};
const TINY = { type: 'stored' as const, id: 'tiny' };

describe(`Automatic precision without shader-f16 on ${TEST_ADAPTER}`, () => {
  const t = tinyEngine();
  afterAll(() => t.engine.dispose());

  it('packs the weights (f16 pairs, half the bytes) and generates the f32-weight image closely', async () => {
    const auto = await t.engine.load(TINY, 'auto');
    const ctx = t.ctx();
    if (ctx.hasF16) {
      expect(TEST_ADAPTER).toBe('lavapipe');
      expect(auto.dtype).toBe('f16');
      expect(auto.packedWeights).toBeUndefined();
      return;
    }
    expect(auto).toMatchObject({ dtype: 'f32', packedWeights: true });
    const packedImage = await t.engine.generate(PARAMS);
    expect(packedImage.packedWeights).toBe(true);
    const f32 = await t.engine.load(TINY, 'f32');
    expect(f32.packedWeights).toBeUndefined();
    // all but the 1-D tensors halve: the tiny model's vectors are a few percent of its bytes
    expect(auto.gpuBytes).toBeLessThan(0.56 * f32.gpuBytes);
    expect(auto.gpuBytes).toBeGreaterThan(0.5 * f32.gpuBytes);
    const f32Image = await t.engine.generate(PARAMS);
    expect(f32Image.packedWeights).toBeUndefined();
    let maxDiff = 0;
    let sumDiff = 0;
    const a = packedImage.image.rgba;
    const b = f32Image.image.rgba;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      maxDiff = Math.max(maxDiff, d);
      sumDiff += d;
    }
    // weights rounded to f16 once (the packed golden pipeline's image is within 3e-3 of diffusers'):
    // a few 8-bit levels at most, under one on average
    expect(maxDiff).toBeLessThanOrEqual(4);
    expect(sumDiff / a.length).toBeLessThan(1);
    expect(new Set(a).size).toBeGreaterThan(10); // a real image, not a flat one
  }, 600_000);

  it('the loader stores every rank ≥ 2 weight as packed f16 and the vectors (and position table) as f32', async () => {
    await t.engine.load(TINY, 'auto');
    const ctx = t.ctx();
    if (ctx.hasF16) return; // the packed path is the no-shader-f16 one (first test: Automatic is f16 here)
    const m = await loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: 'f32', packWeights: true });
    try {
      const unet = m.training.model.unet.weights;
      let total = 0;
      for (const [name, w] of unet) {
        expect(w.dtype, name).toBe(w.shape.length >= 2 ? 'f16' : 'f32');
        const bytes = Math.max(4, Math.ceil((numel(w.shape) * (w.shape.length >= 2 ? 2 : 4)) / 4) * 4);
        // an attn1's q/k/v are views of one fused buffer (model/unet/fused-qkv.ts): each lies inside its buffer
        expect(w.offset + bytes, name).toBeLessThanOrEqual(w.buffer.size);
        total += bytes;
        if (w.shape.length >= 2) expect(ctx.isPacked(w), name).toBe(true);
      }
      // and the buffers hold exactly the weights' bytes: views, no copies
      expect(weightBufferBytes(unet.values())).toBe(total);
      expect(new Set([...unet.values()].map((w) => w.buffer)).size).toBeLessThan(unet.size); // the packed layers are fused too
      for (const te of m.training.model.encoders) {
        expect(te.tokenBlocks.every((b) => b.tensor.dtype === 'f16')).toBe(true);
        expect(te.weights.get('text_model.embeddings.position_embedding.weight')!.dtype).toBe('f32');
        expect(te.weights.get('text_model.final_layer_norm.weight')!.dtype).toBe('f32');
      }
    } finally {
      m.destroy();
    }
  }, 600_000);
});
