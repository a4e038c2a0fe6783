// The attn2 K/V cache (cross-attention-kv-cache.ts) on the planning backend: the real forward over the
// tiny golden config's shapes, several steps of a run. Keyed by layer, context and weights; every cached
// tensor stays leased until the run releases the cache, then the pool gets all of them back.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unetArch, type UNetConfigJson } from './arch';
import { CrossAttentionKvCache, CrossAttentionKvCacheReleasedError } from './cross-attention-kv-cache';
import { unetForward, type UNetInputs } from './forward';
import { PlanBackend, type PlanTensor } from './plan-backend';
import { unetWeightShapes } from './weight-shapes';

const config = JSON.parse(readFileSync('golden/models/unet/config.json', 'utf8')) as UNetConfigJson;
const arch = unetArch(config);
const shapes = unetWeightShapes(arch);
/** The attn2 layers of the config, from its weight names. */
const attn2Layers = [...shapes.keys()].filter((n) => n.endsWith('.attn2.to_k.weight')).map((n) => n.slice(0, -'.to_k.weight'.length));

/** Counts the linears run with an attn2 to_k/to_v weight (the K/V projections). */
class CountingBackend extends PlanBackend {
  kvProjections = 0;
  override linear(x: PlanTensor, w: PlanTensor): PlanTensor {
    if (/\.attn2\.to_[kv]\.weight$/.test(w.storage.label)) this.kvProjections++;
    return super.linear(x, w);
  }
}

function inputs(be: PlanBackend, batch: number): UNetInputs<PlanTensor> & { owned: PlanTensor[] } {
  const crossDim = shapes.get(`${attn2Layers[0]}.to_k.weight`)![1]!;
  const sample = be.input([batch, arch.inChannels, 6, 5], 'sample');
  const ehs = be.input([batch, 77, crossDim], 'ehs');
  const textEmbeds = be.input([batch, arch.addition!.projectionInputDim - 6 * arch.addition!.timeEmbedDim], 'text_embeds');
  return { sample, timesteps: Array(batch).fill(10), encoderHiddenStates: ehs, textEmbeds, timeIds: Array(batch * 6).fill(48), owned: [sample, ehs, textEmbeds] };
}

describe('cross-attention K/V cache over the forward (planning backend, tiny SDXL config)', () => {
  it('projects K/V on the first step only, then serves every attn2 from the cache; release frees it all', async () => {
    expect(attn2Layers.length).toBeGreaterThan(0);
    const be = new CountingBackend(shapes, 'f32', 'f32');
    const inp = inputs(be, 2);
    const cache = new CrossAttentionKvCache<PlanTensor>((...t) => be.release(...t));
    const steps = 3;
    for (let s = 0; s < steps; s++) {
      be.release(await unetForward(be, arch, { ...inp, crossAttentionKv: cache }));
      // two projections per layer, all on the first step
      expect(be.kvProjections).toBe(2 * attn2Layers.length);
      expect(cache.projections).toBe(attn2Layers.length);
      expect(cache.hits).toBe(s * attn2Layers.length);
      // the inputs and the cache's K and V are all that stay live between steps
      expect(be.liveTensors).toBe(inp.owned.length + 2 * attn2Layers.length);
    }
    const kvBytes = attn2Layers.reduce((b, l) => b + 2 * 2 * 77 * shapes.get(`${l}.to_k.weight`)![0]! * 4, 0);
    expect(cache.bytes).toBe(kvBytes);
    cache.release();
    cache.release(); // a second release is a no-op (finally blocks may overlap)
    expect(be.liveTensors).toBe(inp.owned.length);
    be.release(...inp.owned);
    expect(be.liveBytes).toBe(0);
  });

  it('a different context gets its own entries (low-memory CFG halves, another prompt)', async () => {
    const be = new CountingBackend(shapes, 'f32', 'f32');
    const uncond = inputs(be, 1);
    const cond = inputs(be, 1);
    const cache = new CrossAttentionKvCache<PlanTensor>((...t) => be.release(...t));
    for (let s = 0; s < 2; s++) {
      for (const half of [uncond, cond]) be.release(await unetForward(be, arch, { ...half, crossAttentionKv: cache }));
    }
    expect(cache.size).toBe(2 * attn2Layers.length);
    expect(be.kvProjections).toBe(2 * 2 * attn2Layers.length);
    expect(cache.hits).toBe(2 * attn2Layers.length);
    cache.release();
    be.release(...uncond.owned, ...cond.owned);
    expect(be.liveBytes).toBe(0);
  });

  it('without a cache every step projects again (the forward as before)', async () => {
    const be = new CountingBackend(shapes, 'f32', 'f32');
    const inp = inputs(be, 2);
    for (let s = 0; s < 2; s++) be.release(await unetForward(be, arch, inp));
    expect(be.kvProjections).toBe(2 * 2 * attn2Layers.length);
    be.release(...inp.owned);
    expect(be.liveBytes).toBe(0);
  });

  it('refuses use after release and a checkpointing (training) backend, by name', async () => {
    const be = new PlanBackend(shapes, 'f32', 'f32');
    const inp = inputs(be, 2);
    const cache = new CrossAttentionKvCache<PlanTensor>((...t) => be.release(...t));
    cache.release();
    await expect(unetForward(be, arch, { ...inp, crossAttentionKv: cache })).rejects.toBeInstanceOf(CrossAttentionKvCacheReleasedError);

    const training = Object.assign(new PlanBackend(shapes, 'f32', 'f32'), { checkpoint: (_n: string, i: readonly PlanTensor[], run: (i: readonly PlanTensor[]) => Promise<PlanTensor>) => run(i) });
    const tInp = inputs(training, 2);
    await expect(unetForward(training, arch, { ...tInp, crossAttentionKv: new CrossAttentionKvCache<PlanTensor>(() => undefined) })).rejects.toThrow(/checkpointing \(training\) backend/);
  });
});
