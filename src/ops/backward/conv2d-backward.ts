/**
 * Backward of conv2d (src/ops/conv2d.ts) for NCHW activations and [Cout, Cin, kh, kw] weights.
 *
 * conv2dInputGrad: dX = conv_transpose2d(dY, W) with dX's size given explicitly, so a stride-2 conv
 * on an odd input (9×11 → 5×6) gets its 9×11 back (PyTorch's output_padding, derived from the size).
 * It is the op the UNet's backward runs at every conv, so it is an implicit GEMM with the forward's
 * tiles (shaders/conv2d_backward.wgsl), one dispatch per stride phase; a 1×1 stride-1 conv is a
 * plain matmul per image (dX[n] = Wᵀ·dY[n]) and goes through src/ops/matmul.ts.
 *
 * conv2dWeightGrad and sumBiasGrad exist for the per-op golden checks: the UNet's base weights are
 * frozen (DESIGN, "Training": no dW for frozen weights), so they are simple, not fast.
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { ceilDiv, type KernelDescriptor } from '../../gpu/kernel';
import { binding, describe, numel, type DType, type Tensor } from '../../gpu/tensor';
import { conv2dOutputSize } from '../conv2d';
import { grid1d, MAX_GRID_X } from '../grid';
import { matmul } from '../matmul';
import { reduceToShape } from './data-backward';
import inputGradSource from '../../../shaders/conv2d_backward.wgsl?raw';
import weightGradSource from '../../../shaders/conv2d_weight_grad.wgsl?raw';

export interface Conv2dInputGradVariant {
  dtype: DType;
  /** The weight is packed f16 (u32 pairs) under f32 dY and dX (devices without shader-f16). */
  packedWeight: boolean;
  threads: 8 | 16;
}

export const conv2dInputGradKernel: KernelDescriptor<Conv2dInputGradVariant> = {
  name: 'conv2d-input-grad',
  source: inputGradSource,
  defines: ({ dtype, packedWeight }) => ({ DTYPE: dtype, PACKED_W: packedWeight }),
  constants: ({ threads }) => ({ T: threads }),
};

export const conv2dWeightGradKernel: KernelDescriptor<{ dtype: DType }> = {
  name: 'conv2d-weight-grad',
  source: weightGradSource,
  defines: ({ dtype }) => ({ DTYPE: dtype }),
  constants: () => ({ WG: 64 }),
};

export interface Conv2dInputGradOptions {
  stride: number;
  padding: number;
  /** [H, W] of the forward's input x (the size dX must have). */
  inputSize: readonly [number, number];
  /** Overrides the tile (tests and tuning): threads per side and the K-slice depth. */
  tuning?: { threads: 8 | 16; bk: number };
  label?: string;
}

export interface Conv2dWeightGradOptions {
  stride: number;
  padding: number;
  kernel: readonly [number, number];
  label?: string;
}

function checkDtypes(ctx: GpuContext, label: string, ...ts: Tensor[]): DType {
  const dtype = ts[0]!.dtype;
  for (const t of ts) if (t.dtype !== dtype) throw new RangeError(`${label}: mixed dtypes ${ts.map(describe).join(', ')}`);
  if (dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${label} on f16 tensors`);
  return dtype;
}

function checkGeometry(label: string, stride: number, padding: number): void {
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`${label}: stride ${stride} must be a positive integer`);
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`${label}: padding ${padding} must be a non-negative integer`);
}

/** dX [N, Cin, H, W] of y = conv2d(x, W, stride, padding) from dY [N, Cout, Hout, Wout]. */
export async function conv2dInputGrad(ctx: GpuContext, dY: Tensor, weight: Tensor, options: Conv2dInputGradOptions): Promise<Tensor> {
  const label = options.label ?? 'conv2d-input-grad';
  const { stride, padding } = options;
  checkGeometry(label, stride, padding);
  if (dY.shape.length !== 4) throw new RangeError(`${label}: dY must be [N, Cout, Hout, Wout], got ${describe(dY)}`);
  if (weight.shape.length !== 4) throw new RangeError(`${label}: weight must be [Cout, Cin, kh, kw], got ${describe(weight)}`);
  const [batch, cout, hout, wout] = dY.shape as [number, number, number, number];
  const [wcout, cin, kh, kw] = weight.shape as [number, number, number, number];
  const [h, w] = options.inputSize;
  if (wcout !== cout) throw new RangeError(`${label}: weight ${describe(weight)} has ${wcout} output channels, dY ${describe(dY)} has ${cout}`);
  const [eh, ew] = conv2dOutputSize(h, w, kh, kw, stride, padding);
  if (eh !== hout || ew !== wout) {
    throw new RangeError(`${label}: a ${kh}×${kw} stride-${stride} pad-${padding} conv maps ${h}×${w} to ${eh}×${ew}, but dY is ${hout}×${wout}`);
  }
  // An f16 weight under f32 dY is a packed weight (ops/conv2d.ts): the kernel unpacks it.
  const packedWeight = dY.dtype === 'f32' && weight.dtype === 'f16';
  const dtype = packedWeight ? checkDtypes(ctx, label, dY) : checkDtypes(ctx, label, dY, weight);
  const out = ctx.empty([batch, cin, h, w], dtype, label);
  if (numel(out.shape) === 0) return out;

  // (matmul takes a packed weight only as B, so a packed 1×1 weight goes through the general kernel)
  if (kh === 1 && kw === 1 && stride === 1 && padding === 0 && !options.tuning && !packedWeight) {
    // dX[n] (Cin × HW) = Wᵀ (Cin × Cout) · dY[n] (Cout × HW); the 2-D weight is broadcast over n.
    await matmul(ctx, { ...weight, shape: [cout, cin] }, { ...dY, shape: [batch, cout, h * w] }, {
      transA: true,
      out: { ...out, shape: [batch, cin, h * w] },
      label,
    });
    return out;
  }

  const { threads, bk } = options.tuning ?? { threads: 8 as const, bk: Math.min(32, ceilDiv(cout, 8) * 8) };
  if (bk % threads !== 0 || bk < threads || bk > 256 / threads) {
    throw new RangeError(`${label}: K-slice ${bk} must be a multiple of ${threads} and at most ${256 / threads}`);
  }
  const tile = 8 * threads;
  const k = await ctx.kernel(conv2dInputGradKernel, { dtype, packedWeight, threads });
  // One dispatch per phase (iy mod stride, ix mod stride): each writes its own dX pixels.
  for (let phy = 0; phy < stride; phy++) {
    for (let phx = 0; phx < stride; phx++) {
      const hq = ceilDiv(h - phy, stride);
      const wq = ceilDiv(w - phx, stride);
      const m = batch * hq * wq;
      if (hq <= 0 || wq <= 0 || m === 0) continue;
      const mtiles = ceilDiv(m, tile);
      ctx.dispatch(k, {
        uniforms: { cin, h, w, cout, hout, wout, stride, pad: padding, kh, kw, phy, phx, hq, wq, m, mtiles, bk },
        bindings: [binding(dY), binding(weight), binding(out)],
        workgroups: [Math.min(mtiles, MAX_GRID_X), ceilDiv(mtiles, MAX_GRID_X), ceilDiv(cin, tile)],
      });
    }
  }
  return out;
}

/** dW [Cout, Cin, kh, kw] of y = conv2d(x, W, stride, padding) from x and dY. */
export async function conv2dWeightGrad(ctx: GpuContext, x: Tensor, dY: Tensor, options: Conv2dWeightGradOptions): Promise<Tensor> {
  const label = options.label ?? 'conv2d-weight-grad';
  const { stride, padding } = options;
  const [kh, kw] = options.kernel;
  checkGeometry(label, stride, padding);
  if (x.shape.length !== 4 || dY.shape.length !== 4) throw new RangeError(`${label}: x and dY must be NCHW, got ${describe(x)} and ${describe(dY)}`);
  const [batch, cin, h, w] = x.shape as [number, number, number, number];
  const [yb, cout, hout, wout] = dY.shape as [number, number, number, number];
  const [eh, ew] = conv2dOutputSize(h, w, kh, kw, stride, padding);
  if (yb !== batch || eh !== hout || ew !== wout) {
    throw new RangeError(`${label}: dY ${describe(dY)} does not match a ${kh}×${kw} stride-${stride} conv of ${describe(x)} (${batch}×·×${eh}×${ew})`);
  }
  const dtype = checkDtypes(ctx, label, x, dY);
  const out = ctx.empty([cout, cin, kh, kw], dtype, label);
  const count = numel(out.shape);
  if (count === 0) return out;
  const k = await ctx.kernel(conv2dWeightGradKernel, { dtype });
  ctx.dispatch(k, {
    uniforms: { count, batch, cin, h, w, cout, hout, wout, stride, pad: padding, kh, kw },
    bindings: [binding(x), binding(dY), binding(out)],
    workgroups: grid1d(count, 64),
  });
  return out;
}

/** db [Cout] = Σ_{n,y,x} dY[n, co, y, x]. */
export async function sumBiasGrad(ctx: GpuContext, dY: Tensor): Promise<Tensor> {
  if (dY.shape.length !== 4) throw new RangeError(`sumBiasGrad: dY must be [N, C, H, W], got ${describe(dY)}`);
  const c = dY.shape[1]!;
  const db = await reduceToShape(ctx, dY, [1, c, 1, 1]);
  return { ...db, shape: [c] };
}
