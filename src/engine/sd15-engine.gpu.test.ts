/**
 * The SD-1.5 family through the studio's engine (issue 12 point 2: Generate, Scenes and concepts all
 * work on it), on the tiny SD-1.5 model written at test time (tiny-sd15.fixture.ts):
 *  - Generate: a PNDM run gives a real image, and the same seed the same image;
 *  - concepts (EWA, spec §3.2): a library concept shaped for the one 32-wide encoder (syntheticConcepts)
 *    is reported and changes the image of a prompt naming it, and a prompt naming none is untouched;
 *  - Scenes (regional synthesis, spec §4): a painted region with its own prompt (and a concept) owns the
 *    run and changes the image; an empty mask leaves the plain run.
 * Conditioning and decode numerics are checked against plain TS in sd15.gpu.test.ts; this file checks
 * the engine's paths accept the family's shapes (one encoder, no added embedding).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { requestGpuDevice } from '../gpu/device';
import { GpuContext } from '../gpu/context';
import { TEST_ADAPTER, TEST_DEVICE_OPTIONS, testGpu } from '../../tests/gpu-harness';
import { syntheticConcepts } from '../cidm/ewa/synthetic';
import { unetArch, type UNetConfigJson } from '../model/unet/arch';
import { NodeModelFiles } from '../model/node-model-files';
import { tinySd15Configs, writeTinySd15Folder } from '../model/weights/tiny-sd15.fixture';
import { InThreadEngine } from './engine';
import type { GenerateParams } from './protocol';

const [W, H] = [48, 32];
const PARAMS: GenerateParams = { prompt: 'a photo of <s1_1> <s1_2> on a table', negativePrompt: '', width: W, height: H, steps: 2, guidanceScale: 5, scheduler: 'pndm', seed: 21, previewEvery: 0 };
const maxDiff = (a: Uint8ClampedArray, b: Uint8ClampedArray) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe(`SD-1.5 family through the engine (${TEST_ADAPTER})`, () => {
  const dir = writeTinySd15Folder();
  const engine = new InThreadEngine({
    gpu: testGpu(),
    deviceOptions: TEST_DEVICE_OPTIONS,
    openModel: async (ref) => new NodeModelFiles(dir, ref.id),
    createContext: async () => new GpuContext(await requestGpuDevice(testGpu(), TEST_DEVICE_OPTIONS)),
  });
  afterAll(() => {
    engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates, with concepts (EWA) and with a painted region', async () => {
    await engine.load({ type: 'stored', id: 'sd15' }, 'auto');
    const plain = await engine.generate(PARAMS);
    expect(new Set(plain.image.rgba.filter((_, i) => i % 4 === 0)).size).toBeGreaterThan(10);
    expect((await engine.generate(PARAMS)).image.rgba).toEqual(plain.image.rgba);

    const c = tinySd15Configs();
    const arch = unetArch(c.unet as unknown as UNetConfigJson);
    const concepts = syntheticConcepts(arch, [c.textEncoder.hidden_size as number], 2, { seed: 5 }).map((k) => ({ ...k, modelId: 'sd15' }));
    await engine.setConcepts(concepts);
    const ewa = await engine.generate(PARAMS);
    expect(ewa.concepts).toEqual([{ id: 'synthetic-1', name: 'synthetic 1' }]);
    expect(maxDiff(ewa.image.rgba, plain.image.rgba)).toBeGreaterThan(10);
    const noConcept = { ...PARAMS, prompt: 'a photo of a mug on a table' };
    const withLib = await engine.generate(noConcept);
    expect(withLib.concepts).toEqual([]);

    const empty = await engine.generate({ ...noConcept, regions: [{ prompt: 'a <s2_1> <s2_2>', negativePrompt: '', mask: new Float32Array(W * H) }] });
    expect(empty.image.rgba).toEqual(withLib.image.rgba);
    const half = Float32Array.from({ length: W * H }, (_, i) => (i % W < W / 2 ? 1 : 0));
    const regional = await engine.generate({ ...noConcept, regions: [{ prompt: 'a <s2_1> <s2_2>', negativePrompt: '', mask: half }] });
    expect(regional.concepts).toEqual([{ id: 'synthetic-2', name: 'synthetic 2' }]);
    expect(maxDiff(regional.image.rgba, withLib.image.rgba)).toBeGreaterThan(0);
  }, 900_000);
});
