/**
 * Cancel within one UNet block (issue 13, point 2) on the tiny golden SDXL: an abort raised while the
 * first step's UNet runs stops the run at the next block boundary (forward.ts, signal + settle), long
 * before the step ends; every pooled activation goes back to the pool, and the engine runs again. The
 * same for a run with painted regions (a scene), whose UNet passes run inside the regional predictor.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../gpu/context';
import { requestGpuDevice } from '../gpu/device';
import { NodeModelFiles } from '../model/node-model-files';
import { TEST_ADAPTER, TEST_DEVICE_OPTIONS, testGpu } from '../../tests/gpu-harness';
import { InThreadEngine } from './engine';
import type { EngineProgress, GenerateParams } from './protocol';

/** Counts submissions that wait for the GPU (the forward's per-block settle is one). */
class FlushCountingContext extends GpuContext {
  flushes = 0;
  onFlush: (n: number) => void = () => undefined;
  override flush(): Promise<void> {
    this.flushes++;
    this.onFlush(this.flushes);
    return super.flush();
  }
  // the forward's settles and the sampling loop's per-step submissions submit without the error check
  override submit(): Promise<void> {
    this.flushes++;
    this.onFlush(this.flushes);
    return super.submit();
  }
}

const PARAMS: GenerateParams = { prompt: 'a red cube on a table', negativePrompt: '', width: 64, height: 48, steps: 3, guidanceScale: 5, scheduler: 'euler', seed: 3 };

describe(`cancel within one UNet block on ${TEST_ADAPTER}`, () => {
  let ctx: FlushCountingContext | null = null;
  const engine = new InThreadEngine({
    gpu: testGpu(),
    deviceOptions: TEST_DEVICE_OPTIONS,
    openModel: async (ref) => new NodeModelFiles('golden/models', ref.id),
    createContext: async () => (ctx = new FlushCountingContext(await requestGpuDevice(testGpu(), TEST_DEVICE_OPTIONS))),
  });
  afterAll(() => engine.dispose());

  /**
   * A full run (its settles per step, the pool's resting level), then the same run aborted at the second
   * settle, or at the settle `abortAt` picks from the settles per step (a later forward of a step that
   * runs several, after the step's gathered predictions were allocated).
   */
  async function cancelInsideFirstStep(params: GenerateParams, abortAt: (perStep: number) => number = () => 2): Promise<void> {
    const c = ctx!;
    let sampling = false;
    let perRun = 0;
    c.onFlush = () => void (sampling && perRun++);
    const full = await engine.generate(params, { signal: new AbortController().signal, onProgress: (p) => void (p.status === 'step' && p.step === 0 && (sampling = true)) });
    expect(full.image.width).toBe(params.width);
    const perStep = perRun / params.steps;
    expect(perStep).toBeGreaterThanOrEqual(4); // several blocks per UNet, each its own submission
    const abortAtSettle = abortAt(perStep);
    const pooled = c.pool.stats.liveBytes;

    const ac = new AbortController();
    const steps: EngineProgress[] = [];
    let afterStart = 0;
    let atAbort = -1;
    sampling = false;
    c.onFlush = () => {
      if (!sampling) return;
      afterStart++;
      if (afterStart === abortAtSettle) {
        ac.abort();
        atAbort = afterStart;
      }
    };
    await expect(
      engine.generate(params, {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.status === 'step') steps.push(p);
          if (p.status === 'step' && p.step === 0) sampling = true;
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    // stopped inside the first step: no step finished, and no block ran after the one that was on the GPU
    expect(steps.map((p) => (p.status === 'step' ? p.step : -1))).toEqual([0]);
    expect(afterStart).toBe(atAbort);
    expect(afterStart).toBeLessThan(perStep);
    expect(c.pool.stats.liveBytes).toBe(pooled);

    const again = await engine.generate(params);
    expect(again.image.rgba).toEqual(full.image.rgba);
  }

  it('an abort during the first UNet stops at the next block, frees its activations, and the engine runs again', async () => {
    await engine.load({ type: 'stored', id: 'tiny' }, 'f32');
    await cancelInsideFirstStep(PARAMS);
  });

  it('the same inside a regional step (a scene with two painted regions)', async () => {
    await engine.load({ type: 'stored', id: 'tiny' }, 'f32');
    const { width: W, height: H } = PARAMS;
    const half = (left: boolean) => Float32Array.from({ length: W * H }, (_, i) => ((i % W < W / 2) === left ? 1 : 0));
    await cancelInsideFirstStep({
      ...PARAMS,
      steps: 2,
      regions: [
        { prompt: 'a red cube', negativePrompt: '', mask: half(true) },
        { prompt: 'a blue ball', negativePrompt: '', mask: half(false) },
      ],
    });
  });

  // the GPU loop's predictor forms: an abort in the second of several forwards of a step, once the
  // buffer that gathers the step's passes exists, must free it too
  it('the same in low-memory mode, in the second batch-1 CFG pass', async () => {
    await engine.load({ type: 'stored', id: 'tiny' }, 'f32');
    await cancelInsideFirstStep({ ...PARAMS, steps: 2, memoryMode: 'low' }, (perStep) => Math.floor(perStep / 2) + 2);
  });

  it('the same in a low-memory regional step (one pass per forward), in its third forward', async () => {
    await engine.load({ type: 'stored', id: 'tiny' }, 'f32');
    const { width: W, height: H } = PARAMS;
    const half = (left: boolean) => Float32Array.from({ length: W * H }, (_, i) => ((i % W < W / 2) === left ? 1 : 0));
    await cancelInsideFirstStep(
      {
        ...PARAMS,
        steps: 2,
        memoryMode: 'low',
        regions: [
          { prompt: 'a red cube', negativePrompt: '', mask: half(true) },
          { prompt: 'a blue ball', negativePrompt: '', mask: half(false) },
        ],
      },
      (perStep) => Math.floor(perStep / 2) + 2,
    );
  });
});
