/**
 * Training previews on the tiny golden SDXL: a 'train-preview' every previewEvery steps and at the last
 * step, at the training resolution, and the training run is the same with and without them (losses and
 * the learned tensors bit for bit); a preview frees what it allocates; a cancel skips the preview that
 * was due and pauses as usual.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ADAPTER } from '../../tests/gpu-harness';
import type { EngineProgress, TrainJobSpec, TrainPhoto, TrainResult } from './protocol';
import { tinyEngine } from './engine-test-kit';

const SIZE = 64;

/** A 64×64 photo: a gradient with a textured square at (oy, ox). */
function photo(oy: number, ox: number): TrainPhoto {
  const rgba = new Uint8ClampedArray(SIZE * SIZE * 4);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const inside = y >= oy && y < oy + 24 && x >= ox && x < ox + 24;
      rgba.set(inside ? [230, ((x - ox) * 37) % 255, ((y - oy) * 53) % 255, 255] : [40 + y, 60 + x, 90, 255], (y * SIZE + x) * 4);
    }
  }
  return { rgba: { width: SIZE, height: SIZE, rgba } };
}

function spec(extra: Partial<TrainJobSpec> = {}): TrainJobSpec {
  return {
    jobId: 'preview-job', name: 'Toy', classWord: 'toy', placeholders: ['<pv1>', '<pv2>'], taskIndex: 1, photos: [photo(8, 16), photo(30, 24)],
    steps: 3, seed: 5, masked: false, resolution: SIZE, checkpointEvery: 50, lrLora: 1e-3, lrTokens: 1e-2,
    ...extra,
  };
}

const tensorsOf = (r: TrainResult) => [...r.concept.tokens.map((t) => Array.from(t)), ...[...r.concept.lora.values()].flatMap((l) => [Array.from(l.down), Array.from(l.up)])];

describe(`training previews (${TEST_ADAPTER})`, () => {
  const { engine: e, ctx } = tinyEngine();
  afterAll(() => e.dispose());

  it('arrive every N steps and at the end, leave the training untouched and free what they allocate', async () => {
    await e.load({ type: 'stored', id: 'tiny' }, 'auto');
    const c = ctx();
    const plain = await e.train(spec());
    const persistent = c.persistentLive;
    const pooled = c.pool.stats.liveBytes;

    const events: EngineProgress[] = [];
    const withPreviews = await e.train(spec({ previewEvery: 2, previewSteps: 2 }), { onProgress: (p) => events.push(p) });
    const previews = events.flatMap((p) => (p.status === 'train-preview' ? [p] : []));
    expect(previews.map((p) => p.step)).toEqual([2, 3]);
    for (const p of previews) {
      expect([p.image.width, p.image.height, p.image.rgba.length]).toEqual([SIZE, SIZE, SIZE * SIZE * 4]);
      const values = new Set<number>();
      for (let i = 0; i < p.image.rgba.length; i += 4) values.add(p.image.rgba[i]!);
      expect(values.size).toBeGreaterThan(10); // an image, not a flat fill
    }
    // each preview follows its step's 'train' event
    const order = events.flatMap((p) => (p.status === 'train' ? [`t${p.step}`] : p.status === 'train-preview' ? [`p${p.step}`] : []));
    expect(order).toEqual(['t1', 't2', 'p2', 't3', 'p3']);
    // the concept moved between the two previews, and the preview shows it
    expect(previews[0]!.image.rgba).not.toEqual(previews[1]!.image.rgba);
    console.log(`[train-preview ${TEST_ADAPTER}] losses ${plain.losses.map((l) => l.toFixed(5)).join(' ')} / with previews ${withPreviews.losses.map((l) => l.toFixed(5)).join(' ')}`);
    expect(withPreviews.losses).toEqual(plain.losses);
    expect(tensorsOf(withPreviews)).toEqual(tensorsOf(plain));
    expect(c.persistentLive).toBe(persistent);
    expect(c.pool.stats.liveBytes).toBe(pooled);

    // a cancel at step 1 skips the preview due there and pauses with a checkpoint
    const ac = new AbortController();
    const seen: EngineProgress[] = [];
    const run = e.train(spec({ previewEvery: 1, previewSteps: 2 }), {
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.status === 'train' && p.step === 1) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.filter((p) => p.status === 'train-preview')).toEqual([]);
    expect(seen.flatMap((p) => (p.status === 'checkpoint' ? [p.step] : []))).toEqual([1]);
    expect(c.persistentLive).toBe(persistent);
  }, 900_000);
});
