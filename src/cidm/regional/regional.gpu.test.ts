/**
 * Mechanism checks of context-controllable synthesis (CIDM §4, issue 6) on the tiny golden SDXL:
 * regional attn2 is local to its region, an empty mask changes nothing, a full region with the global
 * prompt reproduces plain generation, and the loop's E* is the CFG estimate outside every region and
 * the Eq. 5 blend inside. (The kernel's own reference test is src/ops/regional-attention.gpu.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../../tests/numeric';
import { loadSdxlModel, type LoadedSdxlModel } from '../../engine/sdxl-model';
import { NodeModelFiles } from '../../model/node-model-files';
import { basicBlock, regionalAttentionModule, regionalPrompts, type RegionalLayer } from '../../model/unet/forward';
import { textToImage, type StepRecord, type TextToImageParams } from '../../diffusion/text-to-image';
import { TOLERANCE } from '../../golden/env';
import type { Tensor } from '../../gpu/tensor';
import { guide } from './noise-aggregation';
import { RegionalStep, regionalPredictor, type RegionalParams, type RegionPrompt } from './regional-step';
import { concat } from '../../ops/concat';
import { sdxlTimeIds } from '../../diffusion/sdxl-conditioning';

let model: Promise<LoadedSdxlModel> | null = null;
async function tiny(): Promise<LoadedSdxlModel> {
  const ctx = await testContext();
  model ??= loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: ctx.hasF16 ? 'f16' : 'f32' });
  return model;
}

const H = 32;
const W = 48;
const BASE: TextToImageParams = {
  prompt: 'a photo of an astronaut riding a horse',
  negativePrompt: 'blurry',
  width: W,
  height: H,
  steps: 2,
  guidanceScale: 5,
  scheduler: 'euler',
  seed: 42,
};
const maskOf = (f: (y: number, x: number) => number) => Float32Array.from({ length: H * W }, (_, i) => f(Math.floor(i / W), i % W));

/** A text-to-image run with painted regions (the regional predictor plugged into the loop, as the engine does). */
type RegionalRun = TextToImageParams & Omit<RegionalParams, 'width' | 'height' | 'guidanceScale'> & { regions?: RegionPrompt[] };

async function run(p: RegionalRun): Promise<{ image: Float32Array; latents: Float32Array; steps: StepRecord[] }> {
  const m = await tiny();
  const steps: StepRecord[] = [];
  const predictor = regionalPredictor(p, p.regions) ?? undefined;
  const out = await checked(m.parts.ctx, 'textToImage', () => textToImage(m.parts, p, { previewEvery: 0, predictor, observer: { step: (s) => steps.push(s) } }));
  return { image: out.image, latents: out.latents, steps };
}

/** The plain run (no regions), made once for the three comparisons. */
let plainRun: ReturnType<typeof run> | null = null;
const plain = () => (plainRun ??= run(BASE));

describe(`regional synthesis mechanism on ${TEST_ADAPTER}`, () => {
  it("changing one region's prompt changes attn2 and the transformer block only inside that region", async () => {
    const { parts } = await tiny();
    const { ctx, dtype } = parts;
    const t = parts.unetArch.down[1]!.attentions[0]!; // 32 channels, 2 heads
    const gh = 5;
    const gw = 7;
    const B = 2;
    const U = 2;
    // region 0: binary on the left 3 columns; region 1: a soft ramp on the right 3 columns, rows 1..3
    const masks = new Float32Array(U * gh * gw);
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++) {
        masks[y * gw + x] = x < 3 ? 1 : 0;
        masks[gh * gw + y * gw + x] = x >= 4 && y >= 1 && y <= 3 ? (x - 3) / 3 : 0;
      }
    }
    const hidden = randomArray(B * gh * gw * t.channels, 5);
    const ehs = ctx.upload(randomArray(B * 77 * t.crossDim, 6), [B, 77, t.crossDim], dtype, 'ehs');
    const regionA = randomArray(B * U * 77 * t.crossDim, 7);
    const regionB = regionA.slice();
    regionB.set(randomArray(77 * t.crossDim, 8), (0 * U + 1) * 77 * t.crossDim); // region 1, batch 0
    regionB.set(randomArray(77 * t.crossDim, 9), (1 * U + 1) * 77 * t.crossDim); // region 1, batch 1
    const layer = async (embeds: Float32Array): Promise<RegionalLayer<Tensor>> => {
      const r = {
        embeds: ctx.upload(embeds, [B, U, 77, t.crossDim], dtype, 'region-embeds'),
        masks: ctx.upload(masks, [1, U, gh * gw], 'f32', 'masks'),
        active: ctx.upload(new Float32Array(B * U).fill(1), [B, U], 'f32', 'active'),
      };
      const prompts = await regionalPrompts(parts.unet, ehs, { ...r, masks: new Map() });
      ctx.release(r.embeds);
      return { prompts, masks: r.masks, active: r.active };
    };
    const prefix = `${t.prefix}.transformer_blocks.0`;
    const attn2 = async (embeds: Float32Array) => {
      const l = await layer(embeds);
      const x = ctx.upload(hidden, [B, gh * gw, t.channels], dtype, 'x');
      const o = await regionalAttentionModule(parts.unet, `${prefix}.attn2`, t.heads, x, l);
      const block = await basicBlock(parts.unet, prefix, t, ctx.upload(hidden, [B, gh * gw, t.channels], dtype, 'h'), ehs, l);
      const r = { attn2: await ctx.read(o), block: await ctx.read(block) };
      ctx.release(o, block, x, l.prompts, l.masks, l.active);
      return r;
    };
    const a = await checked(ctx, 'regional block A', () => attn2(regionA));
    const b = await checked(ctx, 'regional block B', () => attn2(regionB));
    for (const which of ['attn2', 'block'] as const) {
      let inside = 0;
      for (let bi = 0; bi < B; bi++) {
        for (let p = 0; p < gh * gw; p++) {
          const row = (d: Float32Array) => Array.from(d.subarray((bi * gh * gw + p) * t.channels, (bi * gh * gw + p + 1) * t.channels));
          if (masks[gh * gw + p] === 0) expect(row(b[which]), `${which} b${bi} cell ${p} (outside)`).toEqual(row(a[which]));
          else {
            expect(row(b[which]), `${which} b${bi} cell ${p} (inside)`).not.toEqual(row(a[which]));
            inside++;
          }
        }
      }
      expect(inside).toBe(B * 3 * 3);
    }
    ctx.release(ehs);
  });

  it('an empty mask changes nothing: exactly the plain loop', async () => {
    const base = await plain();
    const empty = await run({ ...BASE, regions: [{ prompt: 'a red cube', negativePrompt: '', mask: new Float32Array(H * W) }] });
    expect(Array.from(empty.latents)).toEqual(Array.from(base.latents));
    expect(Array.from(empty.image)).toEqual(Array.from(base.image));
    expect(empty.steps[0]!.noisePred.length).toBe(base.steps[0]!.noisePred.length);
  });

  it('one region over the whole image with the global prompt reproduces plain generation', async () => {
    // Same prompts and regionGuidance = the CFG scale make every E_u bitwise E, so E* = E exactly; what
    // differs is only the attn2 kernel (the regional kernel for the region instead of flash attention
    // for the global prompt), both f32-accurate: so the network tolerance of the golden UNet cases
    // (f32 1e-4, f16 1e-2 where each kernel rounds its f16 output on its own).
    const base = await plain();
    const full = await run({
      ...BASE,
      regions: [{ prompt: BASE.prompt, negativePrompt: BASE.negativePrompt!, mask: maskOf(() => 1) }],
      regionGuidance: BASE.guidanceScale,
    });
    const tol = TOLERANCE[(await tiny()).parts.dtype].network;
    for (const [what, got, want] of [['latents', full.latents, base.latents], ['image', full.image, base.image]] as const) {
      const c = compare(got, want);
      console.log(`[regional full-region vs plain ${what}] ${describeComparison(c)} (tol ${tol})`);
      expect(c.maxRel, what).toBeLessThan(tol);
    }
  });

  it('two regions run as one UNet batch of 4; E* is the CFG estimate outside every region and the Eq. 5 blend inside', async () => {
    const base = await plain();
    const left = maskOf((_, x) => (x < W / 2 ? 1 : 0));
    const topRight = Uint8Array.from(maskOf((y, x) => (y < H / 2 && x >= W / 2 ? 255 : 0)));
    const two = await run({
      ...BASE,
      regions: [
        { prompt: 'a red cube', negativePrompt: '', mask: left },
        { prompt: 'a green ball', negativePrompt: 'dark', mask: topRight },
      ],
    });
    const s = two.steps[0]!;
    const n = 4 * (H / 8) * (W / 8);
    expect(s.noisePred.length).toBe(4 * n);
    const pass = (b: number) => s.noisePred.subarray(b * n, (b + 1) * n);
    // one scale for E and every E_u: the run's CFG (issue 11 fault a)
    const E = guide(pass(0), pass(1), BASE.guidanceScale);
    const E0 = guide(pass(0), pass(2), BASE.guidanceScale);
    // the single-region passes differ from the all-regions pass (other regions see the global prompt there)
    expect(Array.from(pass(2))).not.toEqual(Array.from(pass(1)));
    const hw = (H / 8) * (W / 8);
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const p = i % hw;
      const [y, x] = [Math.floor(p / (W / 8)), p % (W / 8)];
      if (x >= W / 16 && y >= H / 16) {
        // the GPU loop's kernel computes E in f32 (the host's guide() rounds once): equal within f32 rounding
        expect(Math.abs(s.guided[i]! - E[i]!), `outside cell ${p}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(E[i]!)));
        outside++;
      } else if (x < W / 16) expect(s.guided[i]).toBeCloseTo(E[i]! + 0.9 * (E0[i]! - E[i]!), 4);
    }
    expect(outside).toBe(4 * (W / 16) * (H / 16));
    expect(compare(two.latents, base.latents).maxAbs).toBeGreaterThan(1e-3);
  });

  it('splitting the passes into several forwards (binding budget) gives exactly the same predictions', async () => {
    const { parts } = await tiny();
    const { ctx } = parts;
    const [neg, cond] = [await parts.encodePrompt('blurry'), await parts.encodePrompt(BASE.prompt)];
    const global = { ehs: await concat(ctx, [neg.embeds, cond.embeds], 0), pooled: await concat(ctx, [neg.pooled, cond.pooled], 0) };
    ctx.release(neg.embeds, neg.pooled, cond.embeds, cond.pooled);
    const regions = [
      { prompt: 'a red cube', negativePrompt: '', mask: maskOf((_, x) => (x < W / 2 ? 1 : 0)) },
      { prompt: 'a green ball', negativePrompt: 'dark', mask: maskOf((y) => (y < H / 3 ? 0.5 : 0)) },
      { prompt: 'a tree', negativePrompt: '', mask: maskOf((y, x) => (y > H / 2 && x > W / 3 ? 1 : 0)) },
    ];
    const input = randomArray(4 * (H / 8) * (W / 8), 3);
    const ids = sdxlTimeIds(H, W);
    const predict = async (regionMaxBatch?: number) => {
      const step = await RegionalStep.create(parts, { ...BASE, ...(regionMaxBatch ? { regionMaxBatch } : {}) }, regions, global);
      const out = await checked(ctx, 'regional predict', () => step.predict(parts.unet, parts.unetArch, input, 500, ids));
      const forwards = step.forwards;
      step.release();
      return { out, forwards };
    };
    const one = await predict();
    const split = await predict(2);
    expect([one.forwards, split.forwards]).toEqual([1, 3]); // 5 passes: [2, 2, 1]
    expect(Array.from(split.out)).toEqual(Array.from(one.out));
    ctx.release(global.ehs, global.pooled);
  });
});
