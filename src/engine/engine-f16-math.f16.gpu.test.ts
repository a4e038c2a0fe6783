/**
 * Precision 'f16 math' (issue 15 point 4) on lavapipe, the CPU adapter with shader-f16: the engine loads
 * f16 weights, generates with f16 arithmetic in the matmuls (GpuContext.f16Math), says so in the result,
 * and the image is the f16 image up to a few 8-bit levels; every other job runs without it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ADAPTER } from '../../tests/gpu-harness';
import type { GenerateParams } from './protocol';
import { tinyEngine } from './engine-test-kit';

const PARAMS: GenerateParams = {
  prompt: 'a watercolor fox in the snow', negativePrompt: '', width: 64, height: 48, steps: 3, guidanceScale: 5, scheduler: 'euler', seed: 77,
};
const TINY = { type: 'stored' as const, id: 'tiny' };

describe(`precision f16 math on ${TEST_ADAPTER}`, () => {
  const t = tinyEngine();
  afterAll(() => t.engine.dispose());

  it('generates the f16 image within a few levels, marks the result, and leaves f16 math off for the next job', async () => {
    const fast = await t.engine.load(TINY, 'f16-math');
    expect(fast).toMatchObject({ dtype: 'f16', f16Math: true });
    const a = await t.engine.generate(PARAMS);
    expect(a.f16Math).toBe(true);
    expect(t.ctx().f16Math).toBe(true);

    const plain = await t.engine.load(TINY, 'f16');
    expect(plain.f16Math).toBeUndefined();
    expect(t.ctx().f16Math).toBe(false);
    const b = await t.engine.generate(PARAMS);
    expect(b.f16Math).toBeUndefined();
    let maxDiff = 0;
    let sumDiff = 0;
    for (let i = 0; i < a.image.rgba.length; i++) {
      const d = Math.abs(a.image.rgba[i]! - b.image.rgba[i]!);
      maxDiff = Math.max(maxDiff, d);
      sumDiff += d;
    }
    console.log(`f16 math vs f16: max ${maxDiff} levels, mean ${(sumDiff / a.image.rgba.length).toFixed(3)}`);
    // the arithmetic really changed (f16 sums), and stayed within the f16 goldens' distance
    expect(sumDiff).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThanOrEqual(6);
    expect(sumDiff / a.image.rgba.length).toBeLessThan(1);
  }, 600_000);
});
