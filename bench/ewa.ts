/**
 * `npm run bench -- --suite ewa`: what elastic weight aggregation costs (CIDM §3, src/cidm/ewa) with 1,
 * 10 and 50 synthetic concepts on the tiny golden SDXL (UNet + both text encoders + tokenizers, fetched
 * from Vite's dev server), all f32:
 *  - library_ms: once per concept library: extra token rows, the concept prompt's layer-wise states,
 *    the packed LoRAs (EwaLibrary.create);
 *  - fold_ms: once per prompt (EwaLibrary.prepare's stages, timed apart): encode_ms, the prompt's L
 *    layer-wise copies through both text encoders; weights_ms, the similarity table and w^l; merge_ms,
 *    W_eff for every attn2 linear;
 *  - step_ms: one sampling step's UNet forward (CFG batch 2, layer-wise contexts) on the folded weights
 *    at a 16×16 latent (128² image). The weights are folded, so this must not grow with the number of
 *    concepts: step_ratio_to_1 = step_ms / step_ms with 1 concept (target ≤ 1.05).
 * Steps are timed in interleaved rounds (1, 10, 50, then 10, 50, 1, …; at least 15) after a warm-up each, so
 * load that drifts on a shared CPU machine hits every count alike, and step_ms is the fastest round:
 * contention only ever adds time. Every timed section ends at queue.onSubmittedWorkDone (train-util
 * sync: ctx.flush alone returns at once when a buffer write has already submitted the work).
 * No peer exists for this work.
 */
import type { GpuContext } from '../src/gpu/context';
import type { Tensor } from '../src/gpu/tensor';
import { EwaLibrary, type EwaPromptStates } from '../src/cidm/ewa/ewa';
import { foldEwa, type FoldedWeights } from '../src/cidm/ewa/fold';
import { layerContexts, type LayerContexts } from '../src/cidm/ewa/encode';
import { syntheticConcepts } from '../src/cidm/ewa/synthetic';
import type { CidmModel } from '../src/cidm/train/cidm-step';
import { ClipTokenizer } from '../src/model/tokenizer/clip-bpe';
import { parseTextEncoderConfig } from '../src/model/text-encoder/config';
import { destroyTextEncoder, loadTextEncoder, type LoadedTextEncoder } from '../src/model/text-encoder/load';
import type { UNetConfigJson } from '../src/model/unet/arch';
import { unetForward } from '../src/model/unet/forward';
import { GpuUNetBackend } from '../src/model/unet/gpu-backend';
import { destroyUNet, loadUNet } from '../src/model/unet/load';
import { SafetensorsFile } from '../src/model/safetensors/reader';
import { openUrlSource } from '../src/model/safetensors/http-source';
import { concat } from '../src/ops/concat';
import { makeInput } from './inputs';
import { timeRuns } from './timing';
import { sync } from './train-util';

export interface EwaBenchRow {
  concepts: number;
  library_ms: number;
  /** encode_ms + weights_ms + merge_ms: everything a new prompt costs before sampling. */
  fold_ms: number;
  /** The prompt's layer-wise copies through both text encoders. */
  encode_ms: number;
  /** Similarity table on the GPU, read back, w^l per layer in TS. */
  weights_ms: number;
  /** W_eff = W0 + s·Σ w U D for every attn2 linear. */
  merge_ms: number;
  step_ms: number;
  step_ratio_to_1: number;
}

const DIR = '/golden/models';
const COUNTS = [1, 10, 50];
const LATENT = 16;
const PROMPT = 'a photo of <s1_1> <s1_2> on a table';

async function text(url: string): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

async function withFile<T>(url: string, use: (f: SafetensorsFile) => Promise<T>): Promise<T> {
  const f = await SafetensorsFile.open(await openUrlSource(url));
  try {
    return await use(f);
  } finally {
    await f.close();
  }
}

async function loadTiny(ctx: GpuContext): Promise<{ model: CidmModel; tokenizers: ClipTokenizer[]; destroy(): void }> {
  const unetCfg = JSON.parse(await text(`${DIR}/unet/config.json`)) as UNetConfigJson;
  const unet = await withFile(`${DIR}/unet/diffusion_pytorch_model.safetensors`, (f) => loadUNet(ctx, f, unetCfg, { dtype: 'f32' }));
  const encoders: LoadedTextEncoder[] = [];
  const tokenizers: ClipTokenizer[] = [];
  for (const [sub, tok] of [['text_encoder', 'tokenizer'], ['text_encoder_2', 'tokenizer_2']] as const) {
    const config = parseTextEncoderConfig(JSON.parse(await text(`${DIR}/${sub}/config.json`)), { file: `${sub}/config.json` });
    encoders.push(await withFile(`${DIR}/${sub}/model.safetensors`, (f) => loadTextEncoder(ctx, f, config, { dtype: 'f32' })));
    const [vocab, merges, cfg] = await Promise.all(['vocab.json', 'merges.txt', 'tokenizer_config.json'].map((f) => text(`${DIR}/${tok}/${f}`)));
    tokenizers.push(ClipTokenizer.fromFiles(vocab!, merges!, ClipTokenizer.configFromJson(cfg!)));
  }
  return {
    model: { unet, encoders, dtype: 'f32' },
    tokenizers,
    destroy() {
      destroyUNet(ctx, unet);
      for (const te of encoders) destroyTextEncoder(ctx, te);
    },
  };
}

interface Prepared {
  count: number;
  lib: EwaLibrary;
  prompt: EwaPromptStates;
  folded: FoldedWeights;
  contexts: LayerContexts;
  libraryMs: number;
  /** Median encode / weights / merge ms of the timed runs. */
  parts: [number, number, number];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * EwaLibrary.prepare's three stages, each ending at a GPU sync so they are timed apart; the first
 * call is the warm-up (compiles) and is not counted.
 */
async function timedPrepare(ctx: GpuContext, lib: EwaLibrary, maxRuns: number): Promise<{ prompt: EwaPromptStates; folded: FoldedWeights; layerWeights: Float64Array[]; parts: [number, number, number] }> {
  let last: { prompt: EwaPromptStates; folded: FoldedWeights; layerWeights: Float64Array[] } | null = null;
  const parts: number[][] = [[], [], []];
  await timeRuns(async () => {
    if (last) {
      last.folded.release();
      ctx.release(last.prompt.states, ...(last.prompt.pooled ? [last.prompt.pooled] : []));
    }
    const t0 = performance.now();
    const prompt = await lib.encodePrompt(PROMPT);
    await sync(ctx);
    const t1 = performance.now();
    const layerWeights = await lib.weights(prompt.states);
    const t2 = performance.now();
    const folded = await foldEwa(ctx, lib.model.unet.weights, lib.bank, layerWeights, { scale: lib.options.loraScale });
    await sync(ctx);
    const t3 = performance.now();
    [t1 - t0, t2 - t1, t3 - t2].forEach((t, i) => parts[i]!.push(t));
    last = { prompt, folded, layerWeights };
  }, maxRuns);
  const kept = parts.map((p) => median(p.slice(1))) as [number, number, number];
  return { ...last!, parts: kept };
}

export async function runEwaBench(ctx: GpuContext, maxRuns: number, log: (s: string) => void): Promise<EwaBenchRow[]> {
  const tiny = await loadTiny(ctx);
  const { model } = tiny;
  const arch = model.unet.arch;
  const widths = model.encoders.map((e) => e.config.hiddenSize);
  const prepared: Prepared[] = [];
  let uncond: EwaPromptStates | null = null;
  const B = 2;
  const sample = ctx.upload(makeInput({ name: 'x', shape: [B * 4 * LATENT * LATENT], role: 'activation' }, 5), [B, 4, LATENT, LATENT], 'f32', 'sample');
  let textEmbeds: Tensor | null = null;
  try {
    for (const count of COUNTS) {
      const t0 = performance.now();
      const lib = await EwaLibrary.create(ctx, model, tiny.tokenizers, syntheticConcepts(arch, widths, count));
      await sync(ctx);
      const libraryMs = performance.now() - t0;
      const p = await timedPrepare(ctx, lib, maxRuns);
      // The unconditional branch (not layer-wise) and the pooled embeddings, once.
      uncond ??= await lib.encodePrompt('');
      textEmbeds ??= await concat(ctx, [uncond.pooled!, p.prompt.pooled!], 0);
      const contexts = await layerContexts(ctx, p.prompt.states, lib.layers, uncond.states);
      prepared.push({ count, lib, prompt: p.prompt, folded: p.folded, contexts, libraryMs, parts: p.parts });
      const [enc, w, merge] = p.parts;
      log(`ewa ${count} concepts: library ${libraryMs.toFixed(0)} ms; fold ${(enc + w + merge).toFixed(0)} ms (encode ${enc.toFixed(0)}, weights ${w.toFixed(0)}, merge ${merge.toFixed(0)}); layer 0 w₁ = ${p.layerWeights[0]![0]!.toFixed(3)}`);
    }
    const px = 8 * LATENT;
    const step = async (p: Prepared) => {
      const be = new GpuUNetBackend(ctx, p.folded.weights, 'f32', `ewa ${p.count}`);
      const out = await unetForward(be, arch, {
        sample, timesteps: [500, 500], encoderHiddenStates: p.contexts.contexts[0]!, layerContexts: p.contexts.contexts,
        textEmbeds: textEmbeds!, timeIds: [px, px, 0, 0, px, px, px, px, 0, 0, px, px],
      });
      await sync(ctx);
      ctx.release(out);
    };
    const times = prepared.map(() => [] as number[]);
    for (const p of prepared) await step(p); // warm-up (pipelines compiled, pool filled)
    const rounds = Math.max(15, maxRuns);
    for (let r = 0; r < rounds; r++) {
      // each round starts at another count, so no count always runs first (or after the same one)
      for (let n = 0; n < prepared.length; n++) {
        const i = (r + n) % prepared.length;
        const t0 = performance.now();
        await step(prepared[i]!);
        times[i]!.push(performance.now() - t0);
      }
    }
    prepared.forEach((p, i) => log(`ewa ${p.count} concepts: steps ${times[i]!.map((t) => t.toFixed(0)).join(', ')} ms`));
    const fastest = (xs: number[]) => Math.min(...xs);
    const base = fastest(times[0]!);
    return prepared.map((p, i) => {
      const stepMs = fastest(times[i]!);
      log(`ewa ${p.count} concepts: step ${stepMs.toFixed(1)} ms (${(stepMs / base).toFixed(3)}× 1 concept)`);
      const [enc, w, merge] = p.parts;
      return { concepts: p.count, library_ms: p.libraryMs, fold_ms: enc + w + merge, encode_ms: enc, weights_ms: w, merge_ms: merge, step_ms: stepMs, step_ratio_to_1: stepMs / base };
    });
  } finally {
    for (const p of prepared) {
      p.contexts.release();
      p.folded.release();
      ctx.release(p.prompt.states, ...(p.prompt.pooled ? [p.prompt.pooled] : []));
      p.lib.destroy();
    }
    if (uncond) ctx.release(uncond.states, ...(uncond.pooled ? [uncond.pooled] : []));
    if (textEmbeds) ctx.release(textEmbeds);
    ctx.release(sample);
    tiny.destroy();
  }
}
