/**
 * How many compute dispatches one UNet step makes (issue "speed", point 3: fewer, fatter dispatches are
 * the way to a fast step on a real GPU, where each launch costs a few microseconds of idle GPU). The
 * real forward (forward.ts on GpuUNetBackend, the same code a generation runs) over the planning
 * device, which counts dispatches and holds no data: any size, no GPU, well under a second.
 */
import { GpuContext } from '../../gpu/context';
import { PlanningDevice, planningHandle } from '../../gpu/planning-device';
import type { DType } from '../../gpu/tensor';
import type { UNetConfigJson } from './arch';
import { unetForward } from './forward';
import { GpuUNetBackend } from './gpu-backend';
import { sizedUNet } from './sized-unet';

export interface DispatchCountOptions {
  width: number;
  height: number;
  /** 2: a CFG step (uncond and cond together). */
  batch: number;
  dtype: DType;
  /** Image pixels per latent pixel (the VAE's factor). */
  latentFactor?: number;
  /** Text tokens the UNet attends to (77 for one CLIP chunk). */
  tokens?: number;
}

export async function countUNetStepDispatches(config: UNetConfigJson, o: DispatchCountOptions): Promise<number> {
  return (await unetStepDispatches(config, o)).total;
}

/** The count and its split by kernel name. */
export async function unetStepDispatches(config: UNetConfigJson, o: DispatchCountOptions): Promise<{ total: number; byKernel: Map<string, number> }> {
  const dev = new PlanningDevice();
  const ctx = new GpuContext(planningHandle(dev));
  try {
    const unet = sizedUNet(ctx, config, o.dtype);
    const { arch } = unet;
    const f = o.latentFactor ?? 8;
    const [h, w] = [o.height / f, o.width / f];
    const zeros = (shape: number[]) => new Float32Array(shape.reduce((a, b) => a * b, 1));
    const sampleShape = [o.batch, arch.inChannels, h, w];
    const ehsShape = [o.batch, o.tokens ?? 77, arch.down.flatMap((b) => b.attentions)[0]?.crossDim ?? arch.mid.attention?.crossDim ?? 768];
    const sample = ctx.upload(zeros(sampleShape), sampleShape, o.dtype, 'sample');
    const ehs = ctx.upload(zeros(ehsShape), ehsShape, o.dtype, 'encoder_hidden_states');
    const pooledDim = arch.addition ? arch.addition.projectionInputDim - 6 * arch.addition.timeEmbedDim : 0;
    const textEmbeds = arch.addition ? ctx.upload(zeros([o.batch, pooledDim]), [o.batch, pooledDim], o.dtype, 'text_embeds') : undefined;
    const be = new GpuUNetBackend(ctx, unet.weights, o.dtype, 'unet (planning)');
    const before = dev.dispatches;
    dev.dispatchesByKernel.clear();
    const out = await unetForward(be, arch, {
      sample,
      timesteps: new Array<number>(o.batch).fill(500),
      encoderHiddenStates: ehs,
      ...(textEmbeds ? { textEmbeds, timeIds: Array.from({ length: o.batch }, () => [o.height, o.width, 0, 0, o.height, o.width]).flat() } : {}),
    });
    await ctx.flush();
    const count = dev.dispatches - before;
    ctx.release(out, sample, ehs, ...(textEmbeds ? [textEmbeds] : []));
    return { total: count, byKernel: new Map(dev.dispatchesByKernel) };
  } finally {
    ctx.destroy();
  }
}
