/**
 * Long prompts (issue 12 point 4) on the tiny golden SDXL, through the studio's own loader
 * (engine/sdxl-model.ts encodePrompt) and the sampling loop:
 * - chunked mode on a short prompt is the truncate (diffusers) encoding, bit for bit, and padding it
 *   to two chunks appends exactly the empty prompt's states;
 * - a prompt of 100 tokens gives 154 rows: the first 77 are the truncated prompt's, the second 77 the
 *   encoding of the remaining 25 tokens as a prompt of their own; pooled is the first chunk's;
 * - emphasis is A1111's formula (long-prompt.ts applyEmphasis) over the unweighted states;
 * - the UNet takes a 154-token context: duplicating every key/value row leaves attention unchanged,
 *   and a whole chunked run samples; a short prompt's chunked run is the truncate run exactly.
 */
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import { loadSdxlModel, type LoadedSdxlModel } from '../engine/sdxl-model';
import { NodeModelFiles } from '../model/node-model-files';
import { applyEmphasis } from '../model/text-encoder/long-prompt';
import { TOLERANCE } from '../golden/env';
import { concat } from '../ops/concat';
import { unetForward } from '../model/unet/forward';
import { sdxlTimeIds } from './sdxl-conditioning';
import { textToImage, type PromptEmbedding, type TextToImageParams } from './text-to-image';

let model: Promise<LoadedSdxlModel> | null = null;
async function tiny(): Promise<LoadedSdxlModel> {
  const ctx = await testContext();
  model ??= loadSdxlModel(ctx, new NodeModelFiles('golden/models', 'tiny'), { dtype: ctx.hasF16 ? 'f16' : 'f32' });
  return model;
}

const words = (w: string, n: number) => Array.from({ length: n }, () => w).join(' ');
const SHORT = 'a photo of an astronaut riding a horse';
/** 75 + 25 tokens, no comma: the cut is at 75. */
const LONG = `${words('cat', 75)} ${words('dog', 25)}`;
const rows = (a: Float32Array, from: number, to: number, C: number) => a.slice(from * C, to * C);

async function readEmbedding(m: LoadedSdxlModel, e: PromptEmbedding): Promise<{ embeds: Float32Array; pooled: Float32Array; shape: readonly number[] }> {
  const { ctx } = m.parts;
  const out = { embeds: await ctx.read(e.embeds), pooled: await ctx.read(e.pooled), shape: e.embeds.shape };
  expect(e.pooled.shape[0]).toBe(1);
  ctx.release(e.embeds, e.pooled);
  return out;
}

function expectClose(what: string, actual: Float32Array, want: Float32Array, tol: number) {
  const cmp = compare(actual, want);
  console.log(`[long-prompt ${TEST_ADAPTER}] ${what} ${describeComparison(cmp)}`);
  expect(cmp.maxRel, `${what}: ${describeComparison(cmp)}`).toBeLessThanOrEqual(tol);
}

describe(`long prompts on the tiny SDXL (${TEST_ADAPTER})`, () => {
  it('chunked = truncate for a short prompt; padding adds the empty prompt\'s rows', async () => {
    const m = await tiny();
    const { ctx } = m.parts;
    const enc = (p: string, o?: Parameters<typeof m.parts.encodePrompt>[1]) => checked(ctx, 'encode', async () => readEmbedding(m, await m.parts.encodePrompt(p, o)));
    const plain = await enc(SHORT);
    const chunked = await enc(SHORT, { mode: 'chunked' });
    expect(chunked.shape).toEqual(plain.shape);
    expect(chunked.embeds).toEqual(plain.embeds);
    expect(chunked.pooled).toEqual(plain.pooled);
    const C = plain.shape[2]!;
    const two = await enc(SHORT, { mode: 'chunked', chunks: 2 });
    expect(two.shape).toEqual([1, 154, C]);
    const empty = await enc('');
    const tol = TOLERANCE[m.parts.dtype].op;
    expectClose('padded chunk 1 vs truncate', rows(two.embeds, 0, 77, C), plain.embeds, tol);
    expectClose('padded chunk 2 vs empty prompt', rows(two.embeds, 77, 154, C), empty.embeds, tol);
    expectClose('padded pooled vs truncate', two.pooled, plain.pooled, tol);
  });

  it('a 100-token prompt: 154 rows, chunk 2 = its last 25 tokens encoded alone, pooled from chunk 1', async () => {
    const m = await tiny();
    const { ctx } = m.parts;
    const enc = (p: string, o?: Parameters<typeof m.parts.encodePrompt>[1]) => checked(ctx, 'encode', async () => readEmbedding(m, await m.parts.encodePrompt(p, o)));
    const long = await enc(LONG, { mode: 'chunked' });
    const truncated = await enc(LONG);
    const rest = await enc(words('dog', 25));
    const C = truncated.shape[2]!;
    expect(truncated.shape).toEqual([1, 77, C]);
    expect(long.shape).toEqual([1, 154, C]);
    const tol = TOLERANCE[m.parts.dtype].op;
    expectClose('chunk 1 vs truncate', rows(long.embeds, 0, 77, C), truncated.embeds, tol);
    expectClose('chunk 2 vs the rest alone', rows(long.embeds, 77, 154, C), rest.embeds, tol);
    expectClose('pooled vs truncate', long.pooled, truncated.pooled, tol);
  });

  it('emphasis is applyEmphasis over the unweighted states, per encoder', async () => {
    const m = await tiny();
    const { ctx } = m.parts;
    const enc = (p: string, o?: Parameters<typeof m.parts.encodePrompt>[1]) => checked(ctx, 'encode', async () => readEmbedding(m, await m.parts.encodePrompt(p, o)));
    // "a (cat:1.5) [dog]" tokenizes as "a", "cat", "dog" (the runs one by one): the plain ids of "a cat dog"
    const weighted = await enc('a (cat:1.5) [dog]', { mode: 'chunked', emphasis: true });
    const plain = await enc('a cat dog');
    const C = plain.shape[2]!;
    const h1 = m.training.model.encoders[0]!.config.hiddenSize;
    const w = Array<number>(77).fill(1);
    w[2] = 1.5;
    w[3] = 1 / 1.1;
    const want = applyEmphasis(Float32Array.from(plain.embeds), 77, C, [{ from: 0, to: h1, weights: w }, { from: h1, to: C, weights: w }]);
    expectClose('emphasis', weighted.embeds, want, TOLERANCE[m.parts.dtype].op);
    expect(weighted.pooled).toEqual(plain.pooled); // pooling reads te2's final states, which emphasis leaves alone
  });

  it('the UNet attends over 154 tokens: a context with every row twice gives the same noise prediction', async () => {
    const m = await tiny();
    const { ctx, dtype, unetArch } = m.parts;
    const [h, w] = [4, 6];
    const C = unetArch.crossDim;
    const P = m.training.model.encoders[1]!.config.projectionDim;
    const sample = ctx.upload(randomArray(4 * h * w, 1), [1, 4, h, w], dtype, 'sample');
    const x = ctx.upload(randomArray(77 * C, 2), [1, 77, C], dtype, 'ehs-77');
    const pooled = ctx.upload(randomArray(P, 3), [1, P], dtype, 'pooled');
    const twice = await concat(ctx, [x, x], 1);
    expect(twice.shape).toEqual([1, 154, C]);
    const run = async (ehs: typeof x) => {
      const out = await checked(ctx, 'unet', () => unetForward(m.parts.unet, unetArch, { sample, timesteps: [500], encoderHiddenStates: ehs, textEmbeds: pooled, timeIds: sdxlTimeIds(8 * h, 8 * w) }));
      const r = await ctx.read(out);
      ctx.release(out);
      return r;
    };
    const a = await run(x);
    const b = await run(twice);
    ctx.release(sample, x, pooled, twice);
    expectClose('unet 154 vs 77', b, a, TOLERANCE[dtype].network);
  });

  it('a chunked run samples with 154 tokens; a short prompt\'s chunked run is the truncate run', async () => {
    const m = await tiny();
    const base: TextToImageParams = { prompt: SHORT, negativePrompt: 'blurry', width: 48, height: 32, steps: 2, guidanceScale: 5, scheduler: 'euler', seed: 7 };
    const go = (p: TextToImageParams) => checked(m.parts.ctx, 'textToImage', () => textToImage(m.parts, p, { previewEvery: 0 }));
    const plain = await go(base);
    const chunked = await go({ ...base, promptMode: 'chunked' });
    expect(chunked.image).toEqual(plain.image);
    let ehsShape: number[] = [];
    const long = await checked(m.parts.ctx, 'long run', () =>
      textToImage(m.parts, { ...base, prompt: LONG, promptMode: 'chunked', emphasis: true }, { previewEvery: 0, observer: { conditioning: (c) => (ehsShape = [c.encoderHiddenStates.length]) } }),
    );
    expect(ehsShape).toEqual([2 * 154 * m.parts.unetArch.crossDim]); // [uncond, cond], both two chunks
    expect(long.image.every((v) => Number.isFinite(v))).toBe(true);
    expect(long.image).not.toEqual(plain.image);
  });
});
