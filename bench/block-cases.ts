/**
 * SDXL-width blocks for the bench, each run through the same code the UNet uses (forward.ts blocks on
 * the GPU backend), fed the peer's named inputs: conv 3×3, ResnetBlock2D, self/cross attention,
 * BasicTransformerBlock and the whole tiny golden UNet.
 */
import type { GpuContext } from '../src/gpu/context';
import type { Tensor } from '../src/gpu/tensor';
import { conv2d } from '../src/ops/conv2d';
import { attention } from '../src/ops/attention';
import { silu } from '../src/ops/elementwise';
import { basicBlock, resnet, unetForward } from '../src/model/unet/forward';
import { GpuUNetBackend } from '../src/model/unet/gpu-backend';
import { unetArch, type UNetArch, type UNetConfigJson } from '../src/model/unet/arch';
import { loadUNet } from '../src/model/unet/load';
import { SafetensorsFile } from '../src/model/safetensors/reader';
import { openUrlSource } from '../src/model/safetensors/http-source';
import type { BenchCase } from './cases';
import type { Sidecar } from './inputs';
import { makeInput } from './inputs';

/** The block's weights under a prefix, so forward.ts's `${prefix}.${name}` lookups find them. */
function blockBackend(ctx: GpuContext, inputs: Record<string, Tensor>): GpuUNetBackend {
  return new GpuUNetBackend(ctx, new Map(Object.entries(inputs).map(([k, v]) => [`blk.${k}`, v])), 'f32', 'bench');
}

const RESNET_ARCH = { groups: 32, eps: 1e-5 } as UNetArch;

export const BLOCK_CASES: BenchCase[] = [
  {
    model: 'conv3x3',
    op: 'conv3x3',
    variants: { ours: (ctx, t) => conv2d(ctx, t.x!, t.weight!, { bias: t.bias!, stride: 1, padding: 1 }) },
  },
  {
    model: 'resnet',
    op: 'resnet',
    variants: {
      ours: async (ctx, t) => {
        const be = blockBackend(ctx, t);
        const emb = await silu(ctx, t.temb!);
        const out = await resnet(be, RESNET_ARCH, { prefix: 'blk', cin: 640, cout: 640, shortcut: false }, t.hidden_states!, emb, false);
        ctx.release(emb);
        return out;
      },
    },
  },
  { model: 'attention_self', op: 'attention', variants: { ours: (ctx, t) => attention(ctx, t.q!, t.k!, t.v!, { heads: 10 }) } },
  { model: 'attention_cross', op: 'attention', variants: { ours: (ctx, t) => attention(ctx, t.q!, t.k!, t.v!, { heads: 10 }) } },
  {
    model: 'transformer_block',
    op: 'transformer_block',
    variants: {
      ours: async (ctx, t) => {
        // basicBlock consumes its input (the UNet hands it over); the bench keeps its copy.
        const h = ctx.empty(t.hidden_states!.shape, 'f32', 'h');
        ctx.copyTensor(t.hidden_states!, h);
        return basicBlock(blockBackend(ctx, t), 'blk', { heads: 10 }, h, t.encoder_hidden_states!);
      },
    },
  },
];

/** The tiny golden UNet: its weights come from golden/ (the peer's ONNX file carries the same ones). */
let tinyLoaded: Promise<{ be: GpuUNetBackend; arch: UNetArch }> | null = null;
/** Loaded once per page (also used by the regions suite, bench/regions.ts). */
export function tinyUNet(ctx: GpuContext) {
  tinyLoaded ??= (async () => {
    const cfg = (await (await fetch('/golden/models/unet/config.json')).json()) as UNetConfigJson;
    const file = await SafetensorsFile.open(await openUrlSource('/golden/models/unet/diffusion_pytorch_model.safetensors'));
    const unet = await loadUNet(ctx, file, cfg, { dtype: 'f32' });
    return { be: new GpuUNetBackend(ctx, unet.weights, 'f32', 'tiny unet'), arch: unetArch(cfg) };
  })();
  return tinyLoaded;
}

export const TINY_TIMESTEPS = [958, 999];
export const TINY_TIME_IDS = [128, 128, 0, 0, 128, 128, 256, 192, 0, 0, 256, 192];

export const UNET_CASES: BenchCase[] = [
  {
    model: 'tiny_unet',
    op: 'unet',
    inputs: (meta: Sidecar) => {
      const out: Record<string, Float32Array> = {};
      meta.inputs.forEach((input, i) => {
        const shape = input.shape.map((d) => (typeof d === 'number' ? d : 2));
        out[input.name] = makeInput({ ...input, shape }, 99 + i);
      });
      out.timestep = Float32Array.from(TINY_TIMESTEPS);
      out.time_ids = Float32Array.from(TINY_TIME_IDS);
      return out;
    },
    variants: {
      ours: async (ctx, t) => {
        const { be, arch } = await tinyUNet(ctx);
        return unetForward(be, arch, {
          sample: t.sample!,
          timesteps: TINY_TIMESTEPS,
          encoderHiddenStates: t.encoder_hidden_states!,
          textEmbeds: t.text_embeds!,
          timeIds: TINY_TIME_IDS,
        });
      },
    },
  },
];
