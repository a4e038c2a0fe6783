/**
 * `npm run bench -- --suite whole`: a whole sampling run of the tiny golden SDXL, ours against an
 * onnxruntime-web loop built the way its Stable Diffusion demos run (issue 15, point 5): 30 Euler steps,
 * CFG 5 (UNet batch 2), 256² (32×32 latents), same adapter, same run, same inputs.
 *
 * - ours: the studio's real loop, textToImage (src/diffusion/text-to-image.ts) with the GPU-resident
 *   sampler (gpu-sampling.ts), an AbortSignal as the engine passes one, and the preview every step.
 * - peer: `session.run` of tiny_unet.onnx per step with CPU-side inputs and outputs, CFG and the Euler
 *   step in JavaScript (the studio's host EulerDiscreteScheduler, the same math the demos hand-write).
 * Excluded on both sides: the text encoders (both get the same random [uncond, cond] embeddings) and
 * the VAE (the peer has no ONNX VAE): ours decodes through an identity stand-in, one tiny copy.
 * Each side runs a 2-step warm-up (pipeline compiles), then one timed 30-step run. The final latents
 * of both are compared (they differ by the peer's timestep-embedding error, README "Benchmarks").
 */
import * as ort from 'onnxruntime-web/webgpu';
import type { GpuContext } from '../src/gpu/context';
import type { Tensor } from '../src/gpu/tensor';
import { textToImage, type SdxlPipelineParts } from '../src/diffusion/text-to-image';
import { createScheduler, type SchedulerConfig } from '../src/diffusion/schedulers';
import { classifierFreeGuidance, sdxlTimeIds } from '../src/diffusion/sdxl-conditioning';
import { unetForward } from '../src/model/unet/forward';
import { tinyUNet } from './block-cases';
import { makeInput } from './inputs';
import { maxAbsDiff } from './timing';

export interface WholeBenchRow {
  what: string;
  steps: number;
  cfg: number;
  oursMs: number;
  peerMs: number;
  ratio: number;
  /** Per step: ours, peer. */
  oursStepMs: number;
  peerStepMs: number;
  maxAbsVsPeer: number;
  latentScale: number;
  /** One bare UNet forward of ours (batch 2, ending at onSubmittedWorkDone): what the loop adds per step is oursStepMs − this. */
  oursUnetMs: number;
}

const STEPS = 30;
const CFG = 5;
const SIZE = 256;
const SAMPLER = 'euler' as const;

const rand = (n: number, seed: number) => makeInput({ name: 'x', shape: [n], role: 'activation' }, seed);

interface Inputs {
  config: SchedulerConfig;
  /** [uncond; cond] rows. */
  ehs: Float32Array;
  pooled: Float32Array;
  xT: Float32Array;
  crossDim: number;
  pooledDim: number;
  h: number;
  w: number;
}

async function ours(ctx: GpuContext, inp: Inputs, steps: number): Promise<Float32Array> {
  const { be, arch } = await tinyUNet(ctx);
  const row = (data: Float32Array, r: number, len: number, shape: number[], label: string) => ctx.upload(data.subarray(r * len, (r + 1) * len), shape, 'f32', label);
  const parts: SdxlPipelineParts = {
    ctx,
    dtype: 'f32',
    unetArch: arch,
    unet: be,
    schedulerConfig: inp.config,
    forceZerosForEmptyPrompt: false,
    vaeScalingFactor: 1,
    latentFactor: SIZE / inp.h,
    vaeDtype: 'f32',
    async encodePrompt(prompt: string) {
      const r = prompt === 'uncond' ? 0 : 1;
      return { embeds: row(inp.ehs, r, 77 * inp.crossDim, [1, 77, inp.crossDim], 'ehs'), pooled: row(inp.pooled, r, inp.pooledDim, [1, inp.pooledDim], 'pooled') };
    },
    // the VAE is excluded (the peer has none): an identity copy stands in
    async decode(z: Tensor) {
      const out = ctx.empty(z.shape, 'f32', 'identity-decode');
      ctx.copyTensor(z, out);
      return out;
    },
  };
  const controller = new AbortController();
  const r = await textToImage(
    parts,
    { prompt: 'cond', negativePrompt: 'uncond', width: SIZE, height: SIZE, steps, guidanceScale: CFG, scheduler: SAMPLER, seed: 1, initLatents: inp.xT },
    { signal: controller.signal, previewEvery: 1, onProgress: () => undefined },
  );
  return r.latents;
}

async function peer(session: ort.InferenceSession, inp: Inputs, steps: number): Promise<Float32Array> {
  const s = createScheduler(SAMPLER, inp.config, steps);
  const n = 4 * inp.h * inp.w;
  let x: Float32Array = inp.xT.map((v) => v * s.initNoiseSigma);
  const ehs = new ort.Tensor('float32', inp.ehs, [2, 77, inp.crossDim]);
  const textEmbeds = new ort.Tensor('float32', inp.pooled, [2, inp.pooledDim]);
  const timeIds = new ort.Tensor('float32', Float32Array.from([...sdxlTimeIds(SIZE, SIZE), ...sdxlTimeIds(SIZE, SIZE)]), [2, 6]);
  for (let i = 0; i < s.timesteps.length; i++) {
    const input = s.scaleModelInput(x, i);
    const sample = new Float32Array(2 * n);
    sample.set(input);
    sample.set(input, n);
    const t = s.timesteps[i]!;
    const out = await session.run({
      sample: new ort.Tensor('float32', sample, [2, 4, inp.h, inp.w]),
      timestep: new ort.Tensor('float32', Float32Array.of(t, t), [2]),
      encoder_hidden_states: ehs,
      text_embeds: textEmbeds,
      time_ids: timeIds,
    });
    const pred = out[session.outputNames[0]!]!;
    const eps = classifierFreeGuidance(pred.data as Float32Array, CFG);
    pred.dispose();
    x = s.step(eps, i, x);
  }
  return x;
}

/** One UNet forward at batch 2 on the run's inputs, alone (the loop's per-step floor). */
async function bareUnetMs(ctx: GpuContext, inp: Inputs): Promise<number> {
  const { be, arch } = await tinyUNet(ctx);
  const up = (d: Float32Array, shape: number[]) => ctx.upload(d, shape, 'f32', 'bare-unet');
  const sample = up(Float32Array.from({ length: 2 * inp.xT.length }, (_, i) => inp.xT[i % inp.xT.length]!), [2, 4, inp.h, inp.w]);
  const ehs = up(inp.ehs, [2, 77, inp.crossDim]);
  const pooled = up(inp.pooled, [2, inp.pooledDim]);
  const t0 = performance.now();
  const out = await unetForward(be, arch, { sample, timesteps: [999, 999], encoderHiddenStates: ehs, textEmbeds: pooled, timeIds: [...sdxlTimeIds(SIZE, SIZE), ...sdxlTimeIds(SIZE, SIZE)] });
  await ctx.flush();
  const ms = performance.now() - t0;
  ctx.release(out, sample, ehs, pooled);
  return ms;
}

export async function runWholeBench(ctx: GpuContext, log: (s: string) => void): Promise<WholeBenchRow[]> {
  const { arch } = await tinyUNet(ctx);
  const crossDim = arch.crossDim;
  const pooledDim = arch.addition!.projectionInputDim - 6 * arch.addition!.timeEmbedDim;
  const h = SIZE / 8;
  const w = SIZE / 8;
  const config = (await (await fetch('/golden/models/scheduler/scheduler_config.json')).json()) as SchedulerConfig;
  const inp: Inputs = { config, ehs: rand(2 * 77 * crossDim, 11), pooled: rand(2 * pooledDim, 12), xT: rand(4 * h * w, 13), crossDim, pooledDim, h, w };

  const session = await ort.InferenceSession.create('/bench/models/tiny_unet.onnx', {
    executionProviders: [{ name: 'webgpu', device: ctx.device } as unknown as ort.InferenceSession.ExecutionProviderConfig],
    graphOptimizationLevel: 'all',
    extra: { session: { disable_cpu_ep_fallback: '1' } },
    freeDimensionOverrides: { batch: 2 },
  });
  const timed = async (what: string, run: () => Promise<Float32Array>) => {
    const t0 = performance.now();
    const out = await run();
    const ms = performance.now() - t0;
    log(`whole ${what}: ${ms.toFixed(0)} ms`);
    return { out, ms };
  };
  await timed('peer warm-up (2 steps)', () => peer(session, inp, 2));
  await timed('ours warm-up (2 steps)', () => ours(ctx, inp, 2));
  const p = await timed(`peer ${STEPS} steps`, () => peer(session, inp, STEPS));
  await session.release();
  const o = await timed(`ours ${STEPS} steps`, () => ours(ctx, inp, STEPS));
  const unetMs = await bareUnetMs(ctx, inp);
  log(`whole: ours bare UNet forward ${unetMs.toFixed(0)} ms`);
  const diff = maxAbsDiff(o.out, p.out);
  const row: WholeBenchRow = {
    what: `tiny SDXL ${SIZE}², ${SAMPLER} ${STEPS} steps, CFG ${CFG}`,
    steps: STEPS,
    cfg: CFG,
    oursMs: o.ms,
    peerMs: p.ms,
    ratio: p.ms / o.ms,
    oursStepMs: o.ms / STEPS,
    peerStepMs: p.ms / STEPS,
    maxAbsVsPeer: diff.maxAbs,
    latentScale: diff.scale,
    oursUnetMs: unetMs,
  };
  log(`whole: ours ${row.oursMs.toFixed(0)} ms, peer ${row.peerMs.toFixed(0)} ms, ${row.ratio.toFixed(2)}× (final latents max|Δ| ${diff.maxAbs.toExponential(2)} of ${diff.scale.toFixed(2)})`);
  return [row];
}
