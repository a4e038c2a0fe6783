/**
 * The VAE forward runs on the UNet's backend interface (same ops, same GPU kernels, same shapes-only
 * planner) plus one op the UNet lacks: the encoder's Downsample2D, a 3×3 stride-2 conv after
 * F.pad(x, (0, 1, 0, 1)) (diffusers Downsample2D with padding=0), done by conv2d's `padEnd`.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType, Tensor } from '../../gpu/tensor';
import { conv2d, conv2dOutputSize } from '../../ops/conv2d';
import { ModelFileError } from '../errors';
import type { Awaitable, TensorRef, UNetBackend } from '../unet/backend';
import { GpuUNetBackend } from '../unet/gpu-backend';
import { PlanBackend, type PlanTensor } from '../unet/plan-backend';

export interface VaeBackend<T extends TensorRef> extends UNetBackend<T> {
  /** conv(F.pad(x, (0, 1, 0, 1)), w, b, stride 2, padding 0): [N,C,H,W] → [N, C', ⌊H/2⌋, ⌊W/2⌋] (H, W ≥ 2). */
  downsampleConv(x: T, w: T, b: T): Awaitable<T>;
}

export class GpuVaeBackend extends GpuUNetBackend implements VaeBackend<Tensor> {
  constructor(
    private readonly gpu: GpuContext,
    private readonly vaeWeights: ReadonlyMap<string, Tensor>,
    dtype: DType,
    private readonly file = 'vae',
  ) {
    super(gpu, vaeWeights, dtype, file);
  }

  override weight(name: string): Tensor {
    const w = this.vaeWeights.get(name);
    if (!w) throw new ModelFileError('missing-tensor', this.file, 'the VAE needs this weight (was only the other half of the VAE loaded?)', name);
    return w;
  }

  downsampleConv(x: Tensor, w: Tensor, b: Tensor): Promise<Tensor> {
    return conv2d(this.gpu, x, w, { stride: 2, padding: 0, padEnd: 1, bias: b, label: 'vae-downsample' });
  }
}

/** The planner with the downsample: allocates the output exactly where the GPU backend would. */
export class PlanVaeBackend extends PlanBackend implements VaeBackend<PlanTensor> {
  /** Every weight name the forward asked for (tests check the forward and the tensor list agree). */
  readonly used = new Set<string>();

  override weight(name: string): PlanTensor {
    this.used.add(name);
    return super.weight(name);
  }

  downsampleConv(x: PlanTensor, w: PlanTensor, b: PlanTensor): PlanTensor {
    const [n, , h, wd] = x.shape as [number, number, number, number];
    const [oh, ow] = conv2dOutputSize(h, wd, 3, 3, 2, 0, 1);
    // PlanBackend's allocator is private; its conv2d allocates [N, Cout, H, W] for a 1×1 stride-1 conv,
    // so a shape-only 1×1 view of the weight over an input of the output size allocates exactly that.
    return super.conv2d({ ...x, shape: [n, x.shape[1]!, oh, ow] }, { ...w, shape: [w.shape[0]!, w.shape[1]!, 1, 1] }, b, { stride: 1, padding: 0 });
  }
}
