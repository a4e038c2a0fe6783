/**
 * The engine end to end on the tiny golden SDXL (golden/models) in Node/Dawn: load with progress,
 * generate with step progress and previews, same seed → same image, cancel stops within one step and
 * leaves the engine usable, errors are named, and a lost device is survived (next request makes a new
 * device and loads again).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GpuContext, DeviceLostError, type GpuDeviceHandle } from '../../src/gpu';
import { requestGpuDevice } from '../../src/gpu/device';
import { InThreadEngine } from '../../src/engine/engine';
import type { EngineProgress, GenerateParams } from '../../src/engine/protocol';
import { NodeModelFiles } from '../../src/model/node-model-files';
import { TEST_ADAPTER, TEST_DEVICE_OPTIONS, testGpu } from '../gpu-harness';

const PARAMS: GenerateParams = {
  prompt: 'a photo of an astronaut riding a horse on mars',
  negativePrompt: 'blurry',
  width: 64,
  height: 48,
  steps: 3,
  guidanceScale: 5,
  scheduler: 'euler_ancestral',
  seed: 1234,
};

const models: Record<string, string> = { tiny: 'golden/models', broken: 'golden/models/unet' };

function engine(extra: Partial<ConstructorParameters<typeof InThreadEngine>[0]> = {}): InThreadEngine {
  return new InThreadEngine({
    gpu: testGpu(),
    deviceOptions: TEST_DEVICE_OPTIONS,
    openModel: async (ref) => new NodeModelFiles(models[ref.id] ?? `missing/${ref.id}`, ref.id),
    ...extra,
  });
}

describe(`engine on ${TEST_ADAPTER}`, () => {
  // one engine (one device, so kernels compile once) for the first three tests
  const shared = engine();
  afterAll(() => shared.dispose());

  it('loads, generates with progress, and the same seed gives the same image', async () => {
    const e = shared;
    const loadEvents: EngineProgress[] = [];
    const info = await e.load({ type: 'stored', id: 'tiny' }, 'auto', { onProgress: (p) => loadEvents.push(p) });
    expect(info.dtype).toBe(TEST_ADAPTER === 'lavapipe' ? 'f16' : 'f32');
    expect(info.gpuBytes).toBeGreaterThan(1e6);
    const components = new Set(loadEvents.flatMap((p) => (p.status === 'load' ? [p.component] : [])));
    expect([...components].sort()).toEqual(['text_encoder', 'text_encoder_2', 'unet', 'vae']);

    const events: EngineProgress[] = [];
    const a = await e.generate(PARAMS, { onProgress: (p) => events.push(p) });
    expect(a.image.width).toBe(64);
    expect(a.image.height).toBe(48);
    expect(a.image.rgba.length).toBe(64 * 48 * 4);
    const steps = events.filter((p) => p.status === 'step');
    expect(steps.map((p) => p.step)).toEqual([0, 1, 2, 3]);
    const last = steps[steps.length - 1]!;
    expect(last.status === 'step' && last.preview?.width).toBe(8); // latent preview at 1/8 size
    expect(events.map((p) => p.status)).toContain('decode');
    // not a flat image
    const px = new Set<number>();
    for (let i = 0; i < a.image.rgba.length; i += 4) px.add(a.image.rgba[i]!);
    expect(px.size).toBeGreaterThan(10);

    const b = await e.generate(PARAMS);
    expect(b.image.rgba).toEqual(a.image.rgba);
    const c = await e.generate({ ...PARAMS, seed: 1235 });
    expect(c.image.rgba).not.toEqual(a.image.rgba);
    // low-memory mode (CFG passes one after another at batch 1) makes the same image: the UNet treats
    // batch elements independently; only a matmul's tile/summation choice may differ with the row count
    const low = await e.generate({ ...PARAMS, memoryMode: 'low' });
    let maxDiff = 0;
    for (let i = 0; i < a.image.rgba.length; i++) maxDiff = Math.max(maxDiff, Math.abs(low.image.rgba[i]! - a.image.rgba[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
  }, 600_000);

  it('cancel stops within one step and the engine stays usable', async () => {
    const e = shared;
    await e.load({ type: 'stored', id: 'tiny' }, 'auto'); // already loaded: returns at once
    const ac = new AbortController();
    const seen: number[] = [];
    const run = e.generate({ ...PARAMS, steps: 8 }, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.status !== 'step') return;
        seen.push(p.step);
        if (p.step === 2) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    // the step running when cancel came may finish; no later one starts
    expect(Math.max(...seen)).toBeLessThanOrEqual(3);
    const again = await e.generate({ ...PARAMS, steps: 2 });
    expect(again.image.width).toBe(64);
  }, 600_000);

  it('names the problem: no model, missing files, bad size', async () => {
    const fresh = engine();
    await expect(fresh.generate(PARAMS)).rejects.toMatchObject({ name: 'NoModelLoadedError' });
    fresh.dispose();
    const e = shared;
    await expect(e.generate({ ...PARAMS, width: 61 })).rejects.toMatchObject({ name: 'ImageSizeError' });
    // a failed load leaves no model half-loaded: the next generate says so
    await expect(e.load({ type: 'stored', id: 'nothing' }, 'auto')).rejects.toMatchObject({ code: 'missing-file' });
    await expect(e.generate(PARAMS)).rejects.toMatchObject({ name: 'NoModelLoadedError' });
  }, 600_000);

  it('survives a lost device: reports it, then makes a new device and loads again', async () => {
    let loseFirst: ((e: DeviceLostError) => void) | null = null;
    let made = 0;
    const e = engine({
      createContext: async () => {
        const real = await requestGpuDevice(testGpu(), TEST_DEVICE_OPTIONS);
        made++;
        if (made > 1) return new GpuContext(real);
        // the first device's loss is ours to trigger (a driver reset cannot be provoked from a test)
        const lost = new Promise<DeviceLostError | null>((res) => (loseFirst = res));
        return new GpuContext({ ...real, lost } satisfies GpuDeviceHandle);
      },
    });
    await e.load({ type: 'stored', id: 'tiny' }, 'auto');
    const reported: string[] = [];
    e.onDeviceLost((err) => reported.push(err.code));
    loseFirst!(new DeviceLostError('unknown', 'simulated by the test'));
    await new Promise((r) => setTimeout(r, 0));
    expect(reported).toEqual(['device-lost']);
    expect((await e.status()).model).toBeNull();
    await expect(e.generate(PARAMS)).rejects.toMatchObject({ name: 'NoModelLoadedError' });
    await e.load({ type: 'stored', id: 'tiny' }, 'auto');
    expect(made).toBe(2);
    const r = await e.generate({ ...PARAMS, steps: 1 });
    expect(r.image.width).toBe(64);
    e.dispose();
  }, 600_000);
});
