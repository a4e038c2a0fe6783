/**
 * Concept training as an engine job on the tiny golden SDXL (golden/models) in Node/Dawn: progress per
 * step with finite losses, checkpoints, cancel stops between steps with a checkpoint (pause) and leaves
 * the engine able to generate, resuming from that checkpoint ends on exactly the straight run's tensors,
 * and a placeholder that collides with the vocabulary is refused before any GPU work.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InThreadEngine } from './engine';
import type { EngineProgress, TrainCheckpoint, TrainJobSpec, TrainPhoto, TrainResult } from './protocol';
import { NodeModelFiles } from '../model/node-model-files';
import { TEST_ADAPTER, TEST_DEVICE_OPTIONS, testGpu } from '../../tests/gpu-harness';

const SIZE = 64; // latent 8×8

/** A 64×64 photo: a soft background gradient and a bright textured square at (oy, ox), its mask the square. */
function photo(oy: number, ox: number): TrainPhoto {
  const rgba = new Uint8ClampedArray(SIZE * SIZE * 4);
  const mask = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = y * SIZE + x;
      const inside = y >= oy && y < oy + 24 && x >= ox && x < ox + 24;
      mask[i] = inside ? 1 : 0;
      rgba.set(inside ? [230, ((x - ox) * 37) % 255, ((y - oy) * 53) % 255, 255] : [40 + y, 60 + x, 90, 255], i * 4);
    }
  }
  return { rgba: { width: SIZE, height: SIZE, rgba }, mask };
}

const PHOTOS = [photo(8, 16), photo(30, 24)];

function spec(extra: Partial<TrainJobSpec> = {}): TrainJobSpec {
  return {
    jobId: 'job-1', name: 'Toy', classWord: 'toy', placeholders: ['<tj1>', '<tj2>'], taskIndex: 1, photos: PHOTOS,
    steps: 4, seed: 7, masked: true, resolution: SIZE, checkpointEvery: 3,
    // a tiny random model needs more than CIDM's rates to move visibly in a few steps
    lrLora: 1e-3, lrTokens: 1e-2,
    ...extra,
  };
}

function engine(): InThreadEngine {
  return new InThreadEngine({ gpu: testGpu(), deviceOptions: TEST_DEVICE_OPTIONS, openModel: async (ref) => new NodeModelFiles('golden/models', ref.id) });
}

function tensorsOf(r: TrainResult): number[][] {
  return [...r.concept.tokens.map((t) => Array.from(t)), ...[...r.concept.lora.values()].flatMap((l) => [Array.from(l.down), Array.from(l.up)])];
}

describe(`concept training as an engine job (${TEST_ADAPTER})`, () => {
  const e = engine();
  afterAll(() => e.dispose());

  it('needs a loaded model', async () => {
    const fresh = engine();
    await expect(fresh.train(spec())).rejects.toMatchObject({ name: 'NoModelLoadedError' });
    fresh.dispose();
  });

  it('trains with per-step progress and checkpoints; pause (cancel) + resume equals the straight run; the engine still generates; collisions are refused first', async () => {
    await e.load({ type: 'stored', id: 'tiny' }, 'auto');

    // "toy" is a vocabulary word: refused before any GPU work (no progress at all)
    const none: EngineProgress[] = [];
    await expect(e.train(spec({ placeholders: ['toy', '<tj2>'] }), { onProgress: (p) => none.push(p) })).rejects.toMatchObject({ name: 'PlaceholderCollisionError', code: 'placeholder-collision' });
    expect(none).toEqual([]);

    // straight: 4 steps, a checkpoint every 2
    const events: EngineProgress[] = [];
    const t0 = performance.now();
    const straight = await e.train(spec({ checkpointEvery: 2 }), { onProgress: (p) => events.push(p) });
    console.log(`[train-job ${TEST_ADAPTER}] 4 steps: prepare ${(straight.timings.prepareMs / 1000).toFixed(1)} s, train ${(straight.timings.trainMs / 1000).toFixed(1)} s (total ${((performance.now() - t0) / 1000).toFixed(1)} s); losses ${straight.losses.map((l) => l.toFixed(4)).join(' ')}`);
    const steps = events.flatMap((p) => (p.status === 'train' ? [p] : []));
    expect(steps.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    for (const p of steps) {
      expect(p.steps).toBe(4);
      expect(Number.isFinite(p.loss) && p.loss > 0).toBe(true);
      expect(p.itPerSec).toBeGreaterThan(0);
      expect(p.lr).toBeGreaterThan(0);
    }
    expect(steps[3]!.lr).toBeLessThan(steps[0]!.lr); // linear decay
    expect(steps[3]!.etaMs).toBe(0);
    const checkpoints = events.flatMap((p) => (p.status === 'checkpoint' ? [p.checkpoint] : []));
    expect(checkpoints.map((c) => c.step)).toEqual([2, 4]);
    expect(events.filter((p) => p.status === 'load').every((p) => p.status === 'load' && p.component === 'vae_encoder')).toBe(true);
    expect(events[events.length - 1]).toEqual({ status: 'done' });
    expect(straight.losses).toEqual(steps.map((p) => p.loss));
    expect(straight.stepsRun).toBe(4);

    const c = straight.concept;
    expect(c).toMatchObject({ id: 'job-1', name: 'Toy', classWord: 'toy', placeholders: ['<tj1>', '<tj2>'], taskIndex: 1, rank: 4, modelId: 'tiny' });
    expect(c.hyper).toMatchObject({ steps: 4, rank: 4, seed: 7, resolution: SIZE, masked: true, gamma: 0.1, r1Form: 'code' });
    expect(c.tokens.map((t, k) => t.length / (c.layers * 2 * c.tokenWidths[k]!))).toEqual([1, 1]);
    expect(c.lora.size).toBe(4 * c.layers);
    for (const l of c.lora.values()) {
      expect(l.down.length).toBe(4 * l.inFeatures);
      expect(l.up.length).toBe(4 * l.outFeatures);
    }
    // the ups start at 0 (spec §1.3): training moved them
    expect([...c.lora.values()].some((l) => l.up.some((v) => v !== 0))).toBe(true);

    // pause: the same job cancelled after step 2 (checkpoints only every 50: the one it gives is the pause's)
    const ac = new AbortController();
    const seen: number[] = [];
    const saved: TrainCheckpoint[] = [];
    const run = e.train(spec({ checkpointEvery: 50 }), {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.status === 'train') {
          seen.push(p.step);
          if (p.step === 2) ac.abort();
        }
        if (p.status === 'checkpoint') saved.push(p.checkpoint);
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([1, 2]);
    expect(saved.map((k) => k.step)).toEqual([2]);
    expect(saved[0]!.losses).toEqual(straight.losses.slice(0, 2));

    // the engine stays usable
    const img = await e.generate({ prompt: 'a photo of a toy', negativePrompt: '', width: 64, height: 64, steps: 1, guidanceScale: 5, scheduler: 'euler', seed: 3 });
    expect(img.image.rgba.length).toBe(64 * 64 * 4);

    // resume: the same tensors as the straight run, bit for bit, and the whole loss curve
    const resumeEvents: EngineProgress[] = [];
    const resumed = await e.train(spec({ checkpointEvery: 50, resume: saved[0]! }), { onProgress: (p) => resumeEvents.push(p) });
    expect(resumeEvents.flatMap((p) => (p.status === 'train' ? [p.step] : []))).toEqual([3, 4]);
    expect(resumeEvents.flatMap((p) => (p.status === 'checkpoint' ? [p.step] : []))).toEqual([4]);
    expect(resumed.stepsRun).toBe(2);
    expect(resumed.losses).toEqual(straight.losses);
    expect(tensorsOf(resumed)).toEqual(tensorsOf(straight));
  }, 1_200_000);
});
