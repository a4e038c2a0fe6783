/**
 * The regional faults of issue 11 point 5, on the tiny golden SDXL: without guidance there is no
 * unconditional pass and the region estimates are unguided; low-memory mode runs one pass per forward
 * with the same predictions; a region with an empty negative uses the scene's global negative; region
 * u's own pass carries region u's pooled embedding. (One scale for E and E_u: passes.test.ts and the
 * two-region check in regional.gpu.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, randomArray } from '../../../tests/numeric';
import { loadSdxlModel, type LoadedSdxlModel } from '../../engine/sdxl-model';
import { NodeModelFiles } from '../../model/node-model-files';
import { textToImage, type StepRecord, type TextToImageParams } from '../../diffusion/text-to-image';
import { sdxlTimeIds } from '../../diffusion/sdxl-conditioning';
import type { Tensor } from '../../gpu/tensor';
import type { UNetBackend } from '../../model/unet/backend';
import { concat } from '../../ops/concat';
import { RegionalStep, regionalPredictor, type RegionalParams, type RegionPrompt } from './regional-step';

let model: Promise<LoadedSdxlModel> | null = null;
async function tiny(): Promise<LoadedSdxlModel> {
  const ctx = await testContext();
  model ??= loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: ctx.hasF16 ? 'f16' : 'f32' });
  return model;
}

const H = 32;
const W = 48;
const BASE: TextToImageParams = { prompt: 'a photo of an astronaut riding a horse', negativePrompt: 'blurry', width: W, height: H, steps: 2, guidanceScale: 5, scheduler: 'euler', seed: 42 };
const maskOf = (f: (y: number, x: number) => number) => Float32Array.from({ length: H * W }, (_, i) => f(Math.floor(i / W), i % W));
const LEFT = maskOf((_, x) => (x < W / 2 ? 1 : 0));
const TOP_RIGHT = maskOf((y, x) => (y < H / 2 && x >= W / 2 ? 1 : 0));
const TWO: RegionPrompt[] = [
  { prompt: 'a red cube', negativePrompt: '', mask: LEFT },
  { prompt: 'a green ball', negativePrompt: 'dark', mask: TOP_RIGHT },
];

/** The global [uncond, cond] conditioning the loop would make for BASE. */
async function globalConditioning(negative = BASE.negativePrompt!) {
  const { parts } = await tiny();
  const { ctx } = parts;
  const [neg, cond] = [await parts.encodePrompt(negative), await parts.encodePrompt(BASE.prompt)];
  const g = { ehs: await concat(ctx, [neg.embeds, cond.embeds], 0), pooled: await concat(ctx, [neg.pooled, cond.pooled], 0) };
  ctx.release(neg.embeds, neg.pooled, cond.embeds, cond.pooled);
  return g;
}

/** Every pass's UNet output for one input, and the pooled embeds each pass's forward read (via concatLast). */
async function predict(p: RegionalParams, regions: RegionPrompt[], negative?: string) {
  const { parts } = await tiny();
  const { ctx } = parts;
  const global = await globalConditioning(negative);
  const step = await RegionalStep.create(parts, p, regions, global);
  const pooled: Float32Array[] = [];
  const unet = parts.unet;
  const spy = new Proxy(unet, {
    get(target, key) {
      if (key === 'concatLast') {
        return async (a: Tensor, b: Tensor) => {
          const rows = await ctx.read(a);
          const n = a.shape[1]!;
          for (let i = 0; i < a.shape[0]!; i++) pooled.push(rows.slice(i * n, (i + 1) * n));
          return target.concatLast(a, b);
        };
      }
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as UNetBackend<Tensor>;
  const input = randomArray(4 * (H / 8) * (W / 8), 3);
  const out = await checked(ctx, 'regional predict', () => step.predict(spy, parts.unetArch, input, 500, sdxlTimeIds(H, W)));
  const info = { batch: step.batch, forwards: step.forwards, passes: step.passes };
  step.release();
  ctx.release(global.ehs, global.pooled);
  return { out, pooled, ...info };
}

describe(`regional faults (issue 11) on ${TEST_ADAPTER}`, () => {
  it('CFG 1: no unconditional pass; E is the all-regions pass and E_u the unguided region pass', async () => {
    expect(regionalPredictor({ ...BASE, guidanceScale: 1 }, TWO)!.needsUncond).toBe(false);
    expect(regionalPredictor({ ...BASE, guidanceScale: 5 }, TWO)!.needsUncond).toBe(true);
    const m = await tiny();
    const steps: StepRecord[] = [];
    const p = { ...BASE, guidanceScale: 1 };
    await checked(m.parts.ctx, 'textToImage CFG 1', () => textToImage(m.parts, p, { previewEvery: 0, predictor: regionalPredictor(p, TWO)!, observer: { step: (s) => steps.push(s) } }));
    const s = steps[0]!;
    const hw = (H / 8) * (W / 8);
    const n = 4 * hw;
    expect(s.noisePred.length).toBe(3 * n); // [all, region 1, region 2]
    const [all, r0] = [s.noisePred.subarray(0, n), s.noisePred.subarray(n, 2 * n)];
    let inside = 0;
    for (let i = 0; i < n; i++) {
      const q = i % hw;
      const [y, x] = [Math.floor(q / (W / 8)), q % (W / 8)];
      if (x >= W / 16 && y >= H / 16) expect(s.guided[i]).toBe(all[i]); // outside every region: E = ε_all
      else if (x < W / 16) {
        expect(s.guided[i]).toBeCloseTo(all[i]! + 0.9 * (r0[i]! - all[i]!), 5); // region 1: Eq. 5 on unguided E_1
        inside++;
      }
    }
    expect(inside).toBe(4 * hw / 2);
  });

  it("low-memory mode runs one pass per forward with exactly the batched predictions", async () => {
    const batched = await predict({ ...BASE }, TWO);
    const low = await predict({ ...BASE, memoryMode: 'low' }, TWO);
    expect([batched.forwards, low.forwards, low.batch]).toEqual([1, 4, 4]);
    expect(Array.from(low.out)).toEqual(Array.from(batched.out));
  });

  it("a region with an empty negative uses the scene's global negative in the unconditional pass", async () => {
    const regions = (neg: string): RegionPrompt[] => [{ ...TWO[0]!, negativePrompt: neg }, TWO[1]!];
    const empty = await predict({ ...BASE, regionMaxBatch: 1 }, regions(''), 'blurry');
    const written = await predict({ ...BASE, regionMaxBatch: 1 }, regions('blurry'), 'blurry');
    const other = await predict({ ...BASE, regionMaxBatch: 1 }, regions('dark'), 'blurry');
    expect(Array.from(empty.out)).toEqual(Array.from(written.out));
    const n = empty.out.length / 4;
    expect(compare(empty.out.subarray(0, n), other.out.subarray(0, n)).maxAbs).toBeGreaterThan(0); // the uncond pass reads it
  });

  it("region u's own pass carries region u's pooled embedding; uncond and all keep the global ones", async () => {
    const { parts } = await tiny();
    const { ctx } = parts;
    const pooledOf = async (s: string) => {
      const e = await parts.encodePrompt(s);
      const v = await ctx.read(e.pooled);
      ctx.release(e.embeds, e.pooled);
      return Array.from(v);
    };
    const run = await predict({ ...BASE }, TWO);
    expect(run.passes.map((p) => p.kind)).toEqual(['uncond', 'all', 'region', 'region']);
    expect(run.pooled.map((x) => Array.from(x))).toEqual([await pooledOf('blurry'), await pooledOf(BASE.prompt), await pooledOf('a red cube'), await pooledOf('a green ball')]);
  });
});
