/**
 * Test support for the engine's GPU tests (*.gpu.test.ts only): an InThreadEngine on the tiny golden
 * SDXL (golden/models) whose GPU context counts the dedicated (persistent) buffers alive, so a test can
 * tell that a fold, a library or a preview freed what it allocated; pooled tensors are counted by the
 * pool itself (pool.stats.liveBytes).
 */
import { GpuContext } from '../gpu/context';
import { requestGpuDevice } from '../gpu/device';
import type { Tensor } from '../gpu/tensor';
import { NodeModelFiles } from '../model/node-model-files';
import { InThreadEngine, type EngineDeps } from './engine';
import { TEST_DEVICE_OPTIONS, testGpu } from '../../tests/gpu-harness';

export class CountingContext extends GpuContext {
  /** Persistent buffers made and not yet destroyed. */
  persistentLive = 0;

  // every dedicated buffer, weights (packed ones included) and folds alike, is made here
  protected override allocatePersistent(shape: readonly number[], dtype: Tensor['dtype'], label: string): Tensor {
    const t = super.allocatePersistent(shape, dtype, label);
    this.persistentLive++;
    return t;
  }

  override destroyTensor(t: Tensor): void {
    super.destroyTensor(t);
    this.persistentLive--;
  }
}

export interface TestEngine {
  engine: InThreadEngine;
  /** The engine's context, once it has made one (the first load). */
  ctx(): CountingContext;
}

/** An engine whose model id "tiny" is the golden tiny SDXL. */
export function tinyEngine(extra: Pick<EngineDeps, 'openLora' | 'tuningStore' | 'autotune'> = {}): TestEngine {
  let made: CountingContext | null = null;
  const engine = new InThreadEngine({
    ...extra,
    gpu: testGpu(),
    deviceOptions: TEST_DEVICE_OPTIONS,
    openModel: async (ref) => new NodeModelFiles('golden/models', ref.id),
    createContext: async () => (made = new CountingContext(await requestGpuDevice(testGpu(), TEST_DEVICE_OPTIONS))),
  });
  return {
    engine,
    ctx: () => {
      if (!made) throw new Error('the engine has no GPU context yet (load a model first)');
      return made;
    },
  };
}
