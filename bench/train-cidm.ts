/**
 * The train suite's CIDM row: one whole CIDM training step (src/cidm/train/cidm-step.ts) on the tiny
 * golden SDXL (golden/models: UNet + both text encoders, fetched from Vite's dev server), batch 1, a
 * 77-token caption with 2 placeholder words, rank-4 LoRA on every attn2 and layer-wise tokens:
 *   cidmForward → epsMse → cidmBackward → AdamW (both groups),
 * against cidmForward alone (text encoders on L layer-wise prompts + UNet) and against a plain
 * inference UNet forward (GpuUNetBackend, one context). Parameters are seeded small random values, so
 * no LoRA up is zero and every gradient path carries signal.
 */
import type { GpuContext } from '../src/gpu/context';
import type { Tensor } from '../src/gpu/tensor';
import { AdamW } from '../src/cidm/train/adamw';
import { cidmShape, createCidmParams, destroyCidmParams } from '../src/cidm/train/cidm-params';
import { cidmBackward, cidmForward, type CidmForward, type CidmModel, type CidmStepInputs } from '../src/cidm/train/cidm-step';
import { epsMse } from '../src/cidm/train/diffusion-loss';
import { parseTextEncoderConfig } from '../src/model/text-encoder/config';
import { destroyTextEncoder, loadTextEncoder, type LoadedTextEncoder } from '../src/model/text-encoder/load';
import type { UNetConfigJson } from '../src/model/unet/arch';
import { unetForward } from '../src/model/unet/forward';
import { GpuUNetBackend } from '../src/model/unet/gpu-backend';
import { destroyUNet, loadUNet } from '../src/model/unet/load';
import { SafetensorsFile } from '../src/model/safetensors/reader';
import { openUrlSource } from '../src/model/safetensors/http-source';
import type { TrainCase } from './train';
import { describeGrad, gaussian } from './train-util';

const DIR = '/golden/models';
const PLACEHOLDERS = 2;
const RANK = 4;

async function json<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function withFile<T>(url: string, use: (f: SafetensorsFile) => Promise<T>): Promise<T> {
  const f = await SafetensorsFile.open(await openUrlSource(url));
  try {
    return await use(f);
  } finally {
    await f.close();
  }
}

/** "a photo of <p0> <p1> on a table", BOS/EOS, padded as SDXL's tokenizers pad (EOS, then 0 for te2). */
function captionIds(vocab: number, pad: number): number[] {
  const ids = [49406, 320, 1125, 539, vocab, vocab + 1, 525, 320, 2175, 49407];
  return [...ids, ...Array<number>(77 - ids.length).fill(pad)];
}

export async function tinyCidmCase(ctx: GpuContext, latent: number): Promise<TrainCase> {
  const unetCfg = await json<UNetConfigJson>(`${DIR}/unet/config.json`);
  const unet = await withFile(`${DIR}/unet/diffusion_pytorch_model.safetensors`, (f) => loadUNet(ctx, f, unetCfg, { dtype: 'f32' }));
  const encoders: LoadedTextEncoder[] = [];
  for (const sub of ['text_encoder', 'text_encoder_2']) {
    const config = parseTextEncoderConfig(await json(`${DIR}/${sub}/config.json`), { file: `${sub}/config.json` });
    encoders.push(await withFile(`${DIR}/${sub}/model.safetensors`, (f) => loadTextEncoder(ctx, f, config, { dtype: 'f32' })));
  }
  const model: CidmModel = { unet, encoders, dtype: 'f32' };
  const arch = unet.arch;
  const shape = cidmShape(arch, PLACEHOLDERS, RANK, encoders.map((e) => e.config.hiddenSize));
  const params = createCidmParams(ctx, shape);
  let seed = 7000;
  for (const [group, std] of [[params.lora, 0.05], [params.tokens, 0.02]] as const) {
    for (const name of group.layout.names) group.write(ctx, 'param', name, gaussian(group.layout.entry(name).numel, seed++, std));
  }
  const adamw = new AdamW([
    { name: 'lora', params: params.lora, lr: 1e-4, weightDecay: 0.01 },
    { name: 'tokens', params: params.tokens, lr: 1e-3, weightDecay: 0.01 },
  ]);

  const C = arch.inChannels;
  const lat = [1, C, latent, latent];
  const n = C * latent * latent;
  const noisy = ctx.upload(gaussian(n, 1, 1), lat, 'f32', 'noisy latents');
  const target = ctx.upload(gaussian(n, 2, 1), lat, 'f32', 'noise');
  const px = 8 * latent;
  const inputs: CidmStepInputs = {
    noisy,
    timesteps: [500],
    timeIds: [px, px, 0, 0, px, px],
    ids: encoders.map((e, k) => captionIds(e.config.vocabSize, k === 0 ? 49407 : 0)),
  };
  // The inference reference: one context and pooled embedding, as a sampling step without CFG gets.
  const pooledDim = arch.addition ? arch.addition.projectionInputDim - 6 * arch.addition.timeEmbedDim : 0;
  const ehs = ctx.upload(gaussian(77 * arch.crossDim, 3, 1), [1, 77, arch.crossDim], 'f32', 'context');
  const textEmbeds = pooledDim ? ctx.upload(gaussian(pooledDim, 4, 1), [1, pooledDim], 'f32', 'text_embeds') : null;
  const inferBe = new GpuUNetBackend(ctx, unet.weights, 'f32', 'tiny unet');

  const discard = (f: CidmForward) => {
    f.dispose();
    f.tape.release(f.states.t);
    if (f.pooled) f.tape.release(f.pooled.t);
    f.tape.release(f.pred.t);
  };
  const c = (checkpointing: boolean) => ({ checkpointing });
  return {
    op: 'cidm_step',
    model: 'tiny_sdxl',
    shape: `latent 1×${C}×${latent}×${latent}, 77 tokens, ${shape.layers} layers × ${PLACEHOLDERS} words, LoRA r${RANK} on ${shape.targets.length} linears`,
    async step(mark) {
      await params.lora.zeroGrads(ctx);
      await params.tokens.zeroGrads(ctx);
      const f = await cidmForward(ctx, model, params, inputs, c(true));
      const loss = await epsMse(ctx, f.pred.t, target);
      await mark();
      ctx.release(loss.loss);
      await cidmBackward(ctx, f, loss.grad);
      await adamw.step(ctx);
    },
    async forward() {
      discard(await cidmForward(ctx, model, params, inputs, c(true)));
    },
    async recordingForward() {
      discard(await cidmForward(ctx, model, params, inputs, c(false)));
    },
    async inference() {
      const out = await unetForward(inferBe, arch, {
        sample: noisy,
        timesteps: inputs.timesteps,
        encoderHiddenStates: ehs,
        ...(textEmbeds ? { textEmbeds, timeIds: inputs.timeIds } : {}),
      });
      ctx.release(out);
    },
    async check() {
      return [describeGrad('LoRA', await params.lora.read(ctx, 'grad')), describeGrad('tokens', await params.tokens.read(ctx, 'grad'))].join('; ');
    },
    dispose() {
      const own: Tensor[] = [noisy, target, ehs, ...(textEmbeds ? [textEmbeds] : [])];
      ctx.release(...own);
      destroyCidmParams(ctx, params);
      destroyUNet(ctx, unet);
      for (const te of encoders) destroyTextEncoder(ctx, te);
    },
  };
}
